//! Workflow command parsing against GitHub's documented examples and the
//! behaviour of its runner.

use sluice_exec::workflow_commands::{
    ADD_MASK_ECHO, Annotation, AnnotationLevel, CommandFailure, CommandOptions, CommandParser,
    LineKind, MatcherRef, SecretString, UNSUPPORTED_STOP_TOKEN_MESSAGE, WorkflowCommand,
    allows_unsecure_commands, allows_unsecure_stop_tokens, deprecated_command_message, escape_data,
    escape_property, format_command, unsupported_command_disabled_message,
};

fn command(line: &str) -> Option<WorkflowCommand> {
    match CommandParser::new().parse_line(line) {
        LineKind::Output(_) => None,
        LineKind::Command { command, .. } => Some(command),
    }
}

fn annotation(level: AnnotationLevel, message: &str) -> Annotation {
    Annotation {
        level,
        message: message.to_string(),
        title: None,
        file: None,
        line: None,
        end_line: None,
        col: None,
        end_column: None,
    }
}

fn unable(line: &str, message: &str) -> WorkflowCommand {
    WorkflowCommand::Failed(CommandFailure {
        summary: Some(format!("Unable to process command '{line}' successfully.")),
        message: message.to_string(),
    })
}

#[test]
fn ordinary_lines_are_output() {
    for line in [
        "",
        "hello world",
        "a::b::c",
        "echo ::warning::x",
        "::warning",
        "::unknown::x",
        "::set-outputs name=a::b",
        ":: warning::x",
        "::::",
        ":::",
        "::warning\tx::y",
        "##[warning",
        "##[unknown]x",
        "#[warning]x",
        "warning::x",
    ] {
        let mut parser = CommandParser::new();
        assert_eq!(parser.parse_line(line), LineKind::Output(line), "{line:?}");
        assert_eq!(parser.parse_line(line).shown(), Some(line));
    }
}

#[test]
fn documented_examples() {
    let cases: Vec<(&str, WorkflowCommand)> = vec![
        (
            "::debug::Set the Octocat variable",
            WorkflowCommand::Debug {
                message: "Set the Octocat variable".into(),
            },
        ),
        (
            "::notice file=app.js,line=1,col=5,endColumn=7::Missing semicolon",
            WorkflowCommand::Annotation(Annotation {
                file: Some("app.js".into()),
                line: Some(1),
                col: Some(5),
                end_column: Some(7),
                ..annotation(AnnotationLevel::Notice, "Missing semicolon")
            }),
        ),
        (
            "::warning file=app.js,line=1,col=5,endColumn=7::Missing semicolon",
            WorkflowCommand::Annotation(Annotation {
                file: Some("app.js".into()),
                line: Some(1),
                col: Some(5),
                end_column: Some(7),
                ..annotation(AnnotationLevel::Warning, "Missing semicolon")
            }),
        ),
        (
            "::error file=app.js,line=1,col=5,endColumn=7::Missing semicolon",
            WorkflowCommand::Annotation(Annotation {
                file: Some("app.js".into()),
                line: Some(1),
                col: Some(5),
                end_column: Some(7),
                ..annotation(AnnotationLevel::Error, "Missing semicolon")
            }),
        ),
        (
            "::error file=app.js,line=1::Missing semicolon",
            WorkflowCommand::Annotation(Annotation {
                file: Some("app.js".into()),
                line: Some(1),
                ..annotation(AnnotationLevel::Error, "Missing semicolon")
            }),
        ),
        (
            "::error file=src/a.rs,line=10,endLine=12,title=Build failed::It broke",
            WorkflowCommand::Annotation(Annotation {
                file: Some("src/a.rs".into()),
                line: Some(10),
                end_line: Some(12),
                title: Some("Build failed".into()),
                ..annotation(AnnotationLevel::Error, "It broke")
            }),
        ),
        (
            "::group::My title",
            WorkflowCommand::Group {
                title: "My title".into(),
            },
        ),
        ("::endgroup::", WorkflowCommand::EndGroup),
        (
            "::add-mask::Mona The Octocat",
            WorkflowCommand::AddMask {
                value: SecretString::new("Mona The Octocat"),
            },
        ),
        (
            "::set-output name=SELECTED_COLOR::green",
            WorkflowCommand::SetOutput {
                name: "SELECTED_COLOR".into(),
                value: "green".into(),
            },
        ),
        (
            "::save-state name=processID::12345",
            WorkflowCommand::SaveState {
                name: "processID".into(),
                value: "12345".into(),
            },
        ),
        (
            "::add-matcher::.github/matchers/eslint.json",
            WorkflowCommand::AddMatcher {
                file: ".github/matchers/eslint.json".into(),
            },
        ),
        (
            "::remove-matcher owner=eslint-compact::",
            WorkflowCommand::RemoveMatcher(MatcherRef::Owner("eslint-compact".into())),
        ),
        (
            "::remove-matcher::matcher.json",
            WorkflowCommand::RemoveMatcher(MatcherRef::File("matcher.json".into())),
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(command(line), Some(expected), "{line}");
    }
}

#[test]
fn names_are_case_insensitive_and_leading_whitespace_is_skipped() {
    let warning = Some(WorkflowCommand::Annotation(annotation(
        AnnotationLevel::Warning,
        "x",
    )));
    for line in [
        "::WARNING::x",
        "::Warning::x",
        "   ::warning::x",
        "\t::warning::x",
        "\u{a0}\u{2003}::warning::x",
        "##[WARNING]x",
    ] {
        assert_eq!(command(line), warning, "{line:?}");
    }
    // The runner compares with .NET's OrdinalIgnoreCase, which never folds
    // a non-ASCII letter into ASCII: the dotless `ı` and long `ſ` are not
    // `i` and `s` (the expression language agrees; GitHub's conformance
    // data pins it there).
    for line in ["::warnıng::x", "::ſet-output name=a::b"] {
        assert_eq!(command(line), None, "{line:?}");
    }
    assert_eq!(
        command("::Set-Output NAME=a::b"),
        Some(WorkflowCommand::SetOutput {
            name: "a".into(),
            value: "b".into()
        })
    );
}

#[test]
fn message_is_everything_after_the_second_separator() {
    for (line, message) in [
        ("::debug::", ""),
        ("::debug::a::b::", "a::b::"),
        ("::debug::  spaced  ", "  spaced  "),
        ("::debug:: ##[warning]x", " ##[warning]x"),
        ("::debug::caf\u{e9} \u{1f600}", "caf\u{e9} \u{1f600}"),
    ] {
        assert_eq!(
            command(line),
            Some(WorkflowCommand::Debug {
                message: message.into()
            }),
            "{line:?}"
        );
    }
}

#[test]
fn message_escapes() {
    for (escaped, message) in [
        ("a%0Ab", "a\nb"),
        ("a%0D%0Ab", "a\r\nb"),
        ("100%25", "100%"),
        ("%250A", "%0A"),
        ("%25250A", "%250A"),
        ("%0a%0d", "%0a%0d"),
        ("%3A%2C%3B%5D", "%3A%2C%3B%5D"),
        ("%", "%"),
        ("%%", "%%"),
        ("%0", "%0"),
        ("50% off", "50% off"),
        ("%\u{e9}", "%\u{e9}"),
    ] {
        assert_eq!(
            command(&format!("::debug::{escaped}")),
            Some(WorkflowCommand::Debug {
                message: message.into()
            }),
            "{escaped:?}"
        );
    }
}

#[test]
fn property_escapes_and_splitting() {
    let title = |line: &str| match command(line) {
        Some(WorkflowCommand::Annotation(a)) => a.title,
        other => panic!("{line}: {other:?}"),
    };
    for (line, expected) in [
        ("::error title=a%3Ab%2Cc::m", Some("a:b,c")),
        ("::error title=a%0Ab%0Dc%25::m", Some("a\nb\rc%")),
        ("::error title=a%3Bb%5D::m", Some("a%3Bb%5D")),
        ("::error title=a=b::m", Some("a=b")),
        ("::error title==a::m", Some("a")),
        ("::error =title=a::m", Some("a")),
        ("::error title=::m", None),
        ("::error title::m", None),
        ("::error title=a,title=b::m", Some("b")),
        ("::error title=a,TITLE=b::m", Some("b")),
        ("::error  title=a ::m", Some("a")),
        ("::error ,,title=a,,::m", Some("a")),
        ("::error file=x, title=a::m", None),
        // The property list is trimmed as a whole, not each value.
        ("::error title= a ::m", Some(" a")),
        ("::error title= a ,file=x::m", Some(" a ")),
    ] {
        assert_eq!(title(line).as_deref(), expected, "{line}");
    }
}

#[test]
fn escaping_round_trips() {
    let samples = [
        "",
        "plain",
        "100% sure",
        "line1\nline2\r\nline3",
        "a:b,c=d",
        "%0A literally",
        "%25",
        "::warning::inside",
        "caf\u{e9} \u{1f600}",
        "trailing space ",
    ];
    for message in samples {
        for title in samples
            .iter()
            .filter(|t| !t.is_empty() && !t.starts_with('='))
        {
            let line = format_command("error", &[("title", title), ("file", "a.rs")], message);
            let expected = Annotation {
                title: Some(title.to_string()),
                file: Some("a.rs".into()),
                ..annotation(AnnotationLevel::Error, message)
            };
            assert_eq!(
                command(&line),
                Some(WorkflowCommand::Annotation(expected)),
                "{line:?}"
            );
        }
    }
    assert_eq!(escape_data("%\r\n:,"), "%25%0D%0A:,");
    assert_eq!(escape_property("%\r\n:,"), "%25%0D%0A%3A%2C");
    assert_eq!(format_command("endgroup", &[], ""), "::endgroup::");
    assert_eq!(
        format_command("error", &[("file", ""), ("line", "3")], "m"),
        "::error line=3::m"
    );
}

#[test]
fn legacy_syntax() {
    let cases: Vec<(&str, WorkflowCommand)> = vec![
        (
            "##[warning]x",
            WorkflowCommand::Annotation(annotation(AnnotationLevel::Warning, "x")),
        ),
        (
            "some text ##[error file=a.js;line=3]msg] here",
            WorkflowCommand::Annotation(Annotation {
                file: Some("a.js".into()),
                line: Some(3),
                ..annotation(AnnotationLevel::Error, "msg] here")
            }),
        ),
        (
            "##[group]Title",
            WorkflowCommand::Group {
                title: "Title".into(),
            },
        ),
        ("##[endgroup]", WorkflowCommand::EndGroup),
        (
            "##[set-output name=a%3Bb%5D]v%3B%5D%0A%25",
            WorkflowCommand::SetOutput {
                name: "a;b]".into(),
                value: "v;]\n%".into(),
            },
        ),
        (
            "::unknown:: ##[debug]late",
            WorkflowCommand::Debug {
                message: "late".into(),
            },
        ),
    ];
    for (line, expected) in cases {
        assert_eq!(command(line), Some(expected), "{line}");
    }
}

#[test]
fn annotation_lines_and_columns() {
    // GitHub's IssueCommandInvalidColumns cases and more:
    // (properties, line, endLine, col, endColumn)
    type Positions = (Option<u32>, Option<u32>, Option<u32>, Option<u32>);
    let cases: Vec<(&str, Positions)> = vec![
        (
            "line=1,endLine=2,col=1,endColumn=2",
            (Some(1), Some(2), None, None),
        ),
        ("col=1,endColumn=2", (None, None, None, None)),
        ("endLine=1", (Some(1), Some(1), None, None)),
        ("line=1,endColumn=2", (Some(1), None, Some(2), Some(2))),
        ("line=,endLine=3", (Some(3), Some(3), None, None)),
        ("line=4,endLine=3", (None, None, None, None)),
        (
            "line=1,endLine=1,col=3,endColumn=2",
            (Some(1), Some(1), None, None),
        ),
        (
            "line=1,endLine=1,col=1,endColumn=2",
            (Some(1), Some(1), Some(1), Some(2)),
        ),
        ("line=1,col=1", (Some(1), None, Some(1), None)),
        ("line=abc,col=2", (None, None, None, None)),
        ("line= 7 ", (Some(7), None, None, None)),
        ("line=+7", (Some(7), None, None, None)),
        ("line=-1", (None, None, None, None)),
        ("line=99999999999", (None, None, None, None)),
        ("LINE=5,ENDLINE=6,COL=1", (Some(5), Some(6), None, None)),
        // The lines differ as text, so the columns go.
        ("line=1,endLine=01,col=1", (Some(1), Some(1), None, None)),
        ("line=2,endLine=5,title=t", (Some(2), Some(5), None, None)),
    ];
    for (properties, (line, end_line, col, end_column)) in cases {
        let text = format!("::warning {properties}::m");
        match command(&text) {
            Some(WorkflowCommand::Annotation(a)) => {
                assert_eq!(
                    (a.line, a.end_line, a.col, a.end_column),
                    (line, end_line, col, end_column),
                    "{properties}"
                );
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn set_output_and_save_state_need_a_name() {
    for (line, name) in [
        ("::set-output::v", "set-output"),
        ("::set-output name=::v", "set-output"),
        ("::set-output nam=x::v", "set-output"),
        ("::save-state::v", "save-state"),
    ] {
        assert_eq!(
            command(line),
            Some(unable(
                line,
                &format!("Required field 'name' is missing in ##[{name}] command.")
            ))
        );
    }
    let output = command("::set-output name=a::").expect("command");
    assert_eq!(
        output,
        WorkflowCommand::SetOutput {
            name: "a".into(),
            value: String::new()
        }
    );
    assert_eq!(
        output.deprecation_warning(),
        Some(deprecated_command_message("set-output"))
    );
    assert!(
        deprecated_command_message("save-state")
            .starts_with("The `save-state` command is deprecated and will be disabled soon.")
    );
    assert_eq!(
        command("::debug::x").and_then(|c| c.deprecation_warning()),
        None
    );
}

#[test]
fn set_env_and_add_path_are_disabled_by_default() {
    for (line, name) in [
        ("::set-env name=A::b", "set-env"),
        ("::add-path::/opt/bin", "add-path"),
    ] {
        let message = unsupported_command_disabled_message(name);
        assert!(message.starts_with(&format!("The `{name}` command is disabled.")));
        assert_eq!(command(line), Some(unable(line, &message)));
    }
    let mut allowed = CommandParser::with_options(CommandOptions {
        allow_unsecure_commands: true,
        ..CommandOptions::default()
    });
    let mut parse = |line: &str| match allowed.parse_line(line) {
        LineKind::Command { command, .. } => command,
        LineKind::Output(_) => panic!("{line} is output"),
    };
    assert_eq!(
        parse("::set-env name=A::b c"),
        WorkflowCommand::SetEnv {
            name: "A".into(),
            value: "b c".into()
        }
    );
    assert_eq!(
        parse("::set-env name=node_options::--inspect"),
        WorkflowCommand::Problem {
            level: AnnotationLevel::Error,
            message: "Can't update NODE_OPTIONS environment variable using ::set-env:: command."
                .into()
        }
    );
    assert_eq!(
        parse("::set-env::b"),
        unable(
            "::set-env::b",
            "Required field 'name' is missing in ##[set-env] command."
        )
    );
    assert_eq!(
        parse("::add-path::/opt/bin"),
        WorkflowCommand::AddPath {
            path: "/opt/bin".into()
        }
    );
    assert_eq!(
        parse("::add-path::"),
        unable("::add-path::", "Value cannot be null. (Parameter 'path')")
    );
}

#[test]
fn opt_in_values() {
    for (value, expected) in [
        ("true", true),
        ("TRUE", true),
        (" True \n", true),
        ("\0true\0", true),
        ("1", false),
        ("yes", false),
        ("", false),
        ("truee", false),
    ] {
        assert_eq!(allows_unsecure_commands(value), expected, "{value:?}");
    }
    for (value, expected) in [
        ("1", true),
        ("true", true),
        ("True", true),
        ("$TRUE", true),
        (" true", false),
        ("0", false),
        ("yes", false),
        ("", false),
    ] {
        assert_eq!(allows_unsecure_stop_tokens(value), expected, "{value:?}");
    }
}

#[test]
fn add_mask() {
    let mut parser = CommandParser::new();
    let parsed = parser.parse_line("::add-mask::s3cret value");
    assert_eq!(parsed.shown(), None);
    let LineKind::Command {
        command: mask,
        echo,
    } = parsed
    else {
        panic!("not a command");
    };
    assert_eq!(echo, None);
    assert_eq!(mask.secret(), Some("s3cret value"));
    assert!(!format!("{mask:?}").contains("s3cret"));

    let mut echoing = CommandParser::with_options(CommandOptions {
        echo: true,
        ..CommandOptions::default()
    });
    assert_eq!(
        echoing.parse_line("::add-mask::s3cret").shown(),
        Some(ADD_MASK_ECHO)
    );
    assert_eq!(
        command("::add-mask::a%0Ab"),
        Some(WorkflowCommand::AddMask {
            value: SecretString::new("a\nb")
        })
    );
    for blank in [
        "::add-mask::",
        "::add-mask::   ",
        "::add-mask:: %0D  %0A   %0D%0A    %0D",
    ] {
        assert_eq!(
            echoing.parse_line(blank),
            LineKind::Command {
                command: WorkflowCommand::Problem {
                    level: AnnotationLevel::Warning,
                    message: "Can't add secret mask for empty string in ##[add-mask] command."
                        .into()
                },
                echo: None
            },
            "{blank:?}"
        );
    }
}

#[test]
fn matcher_commands() {
    let warning = |message: &str| {
        Some(WorkflowCommand::Problem {
            level: AnnotationLevel::Warning,
            message: message.into(),
        })
    };
    assert_eq!(
        command("::add-matcher::"),
        warning("File path must be specified.")
    );
    assert_eq!(
        command("::remove-matcher owner=a::file.json"),
        warning(
            "Either specify an owner name or a file path in ##[remove-matcher] command. Both \
             values cannot be set."
        )
    );
    assert_eq!(
        command("::remove-matcher::"),
        warning(
            "Either an owner name or a file path must be specified in ##[remove-matcher] command."
        )
    );
}

#[test]
fn echo_follows_the_documented_example() {
    // From GitHub's documentation: only the second set-output and the
    // `::echo::off` line appear in the log.
    let lines = [
        "::set-output name=action_echo::disabled",
        "::echo::on",
        "::set-output name=action_echo::enabled",
        "::echo::off",
        "::set-output name=action_echo::disabled",
    ];
    let mut parser = CommandParser::new();
    let shown: Vec<&str> = lines
        .iter()
        .filter_map(|line| parser.parse_line(line).shown())
        .collect();
    assert_eq!(
        shown,
        ["::set-output name=action_echo::enabled", "::echo::off"]
    );
}

#[test]
fn echo_values() {
    let mut parser = CommandParser::new();
    for (line, expected) in [
        ("::echo::on", true),
        ("::echo::off", false),
        ("::echo::ON", true),
        ("::echo::Off   ", false),
        ("::echo::  oN", true),
    ] {
        assert_eq!(
            parser.parse_line(line),
            LineKind::Command {
                command: WorkflowCommand::Echo { enabled: expected },
                echo: (!expected).then_some(line),
            },
            "{line}"
        );
        assert_eq!(parser.echo(), expected);
    }
    let mut parser = CommandParser::new();
    assert_eq!(
        parser.parse_line("::echo::invalid"),
        LineKind::Command {
            command: unable(
                "::echo::invalid",
                "Invalid echo command value. Possible values can be: 'on', 'off'. Current value \
                 is: 'invalid'."
            ),
            echo: None
        }
    );
    assert_eq!(
        parser.parse_line("::echo::"),
        LineKind::Command {
            command: unable("::echo::", "Value cannot be null. (Parameter 'value')"),
            echo: None
        }
    );
    assert!(!parser.echo());
}

#[test]
fn echo_never_shows_annotations_debug_or_masks() {
    let mut parser = CommandParser::with_options(CommandOptions {
        echo: true,
        ..CommandOptions::default()
    });
    for hidden in ["::debug::x", "::warning::x", "::error::x", "::notice::x"] {
        assert_eq!(parser.parse_line(hidden).shown(), None, "{hidden}");
    }
    for shown in [
        "::group::g",
        "::endgroup::",
        "::set-output name=a::b",
        "::save-state name=a::b",
        "::set-output::no name",
        "::add-matcher::m.json",
    ] {
        assert_eq!(parser.parse_line(shown).shown(), Some(shown), "{shown}");
    }
}

#[test]
fn stop_commands_documented_example() {
    let token = "a3c5e9d2-6f1b-4c8e-9d7a-2b1e0f4c6d8a";
    let mut parser = CommandParser::new();
    let stop = format!("::stop-commands::{token}");
    let resume = format!("::{token}::");
    let parsed = parser.parse_line(&stop);
    assert_eq!(parsed.shown(), Some(stop.as_str()));
    let LineKind::Command { command, .. } = parsed else {
        panic!("not a command");
    };
    assert_eq!(
        command,
        WorkflowCommand::StopCommands {
            token: token.into()
        }
    );
    assert_eq!(command.secret(), Some(token));
    assert_eq!(parser.stop_token(), Some(token));

    for line in [
        "::warning:: This will NOT be rendered as a warning",
        "::set-output name=a::b",
        "##[error]no",
        "::stop-commands::other",
        "::echo::on",
    ] {
        assert_eq!(parser.parse_line(line), LineKind::Output(line));
    }
    assert!(!parser.echo());

    assert_eq!(
        parser.parse_line(&resume),
        LineKind::Command {
            command: WorkflowCommand::ResumeCommands {
                token: token.into()
            },
            echo: Some(&resume)
        }
    );
    assert_eq!(parser.stop_token(), None);
    assert!(matches!(
        parser.parse_line("::warning:: This is a warning again"),
        LineKind::Command {
            command: WorkflowCommand::Annotation(_),
            ..
        }
    ));
}

#[test]
fn stop_token_matching() {
    let resumes = |token: &str, line: &str| {
        let mut parser = CommandParser::new();
        parser.parse_line(&format!("::stop-commands::{token}"));
        assert_eq!(parser.stop_token(), Some(token));
        matches!(
            parser.parse_line(line),
            LineKind::Command {
                command: WorkflowCommand::ResumeCommands { .. },
                ..
            }
        )
    };
    assert!(resumes("stopToken", "::stopToken::"));
    assert!(resumes("stopToken", "::STOPTOKEN::"));
    assert!(resumes("stopToken", "  ::stopToken::trailing"));
    assert!(resumes("stopToken", "::stopToken key=v::"));
    assert!(resumes("stopToken", "##[stopToken]"));
    assert!(!resumes("stopToken", "stopToken"));
    assert!(!resumes("stopToken", "::stopTokens::"));
    assert!(!resumes("stopToken", "::stop::Token"));
    // The name ends at a space, so a token with a space never resumes.
    assert!(!resumes("stop token", "::stop token::"));
    // The token is the unescaped message.
    assert!(resumes("a\nb", "::a\nb::"));

    let mut legacy = CommandParser::new();
    assert!(matches!(
        legacy.parse_line("##[stop-commands]stopToken"),
        LineKind::Command {
            command: WorkflowCommand::StopCommands { .. },
            ..
        }
    ));
    assert_eq!(legacy.stop_token(), Some("stopToken"));
}

#[test]
fn short_stop_tokens_are_not_secrets() {
    let mut parser = CommandParser::new();
    let LineKind::Command { command, .. } = parser.parse_line("::stop-commands::abcdef") else {
        panic!("not a command");
    };
    assert_eq!(command.secret(), None);
    let LineKind::Command { command, .. } =
        CommandParser::new().parse_line("::stop-commands::abcdefg")
    else {
        panic!("not a command");
    };
    assert_eq!(command.secret(), Some("abcdefg"));
}

#[test]
fn refused_stop_tokens() {
    for token in [
        "",
        "set-env",
        "STOP-COMMANDS",
        "warning",
        "add-mask",
        "pause-logging",
        "Pause-Logging",
        "echo",
    ] {
        let line = format!("::stop-commands::{token}");
        let mut parser = CommandParser::new();
        assert_eq!(
            parser.parse_line(&line),
            LineKind::Command {
                command: WorkflowCommand::Failed(CommandFailure {
                    summary: None,
                    message: UNSUPPORTED_STOP_TOKEN_MESSAGE.into()
                }),
                echo: None
            },
            "{token:?}"
        );
        assert_eq!(parser.stop_token(), None);
        assert!(matches!(
            parser.parse_line("::warning::still processed"),
            LineKind::Command { .. }
        ));
    }
}

#[test]
fn unsecure_stop_tokens_when_allowed() {
    let options = CommandOptions {
        allow_unsecure_stop_tokens: true,
        ..CommandOptions::default()
    };
    // An empty token stops commands for good.
    let mut parser = CommandParser::with_options(options);
    assert!(matches!(
        parser.parse_line("::stop-commands::"),
        LineKind::Command {
            command: WorkflowCommand::StopCommands { .. },
            ..
        }
    ));
    for line in ["::::", ":: ::", "::warning::x", "##[]"] {
        assert_eq!(parser.parse_line(line), LineKind::Output(line));
    }

    // A command name as token: resuming unregisters that command, as
    // GitHub's runner does.
    let mut parser = CommandParser::with_options(options);
    parser.parse_line("::stop-commands::warning");
    assert_eq!(
        parser.parse_line("::error::x"),
        LineKind::Output("::error::x")
    );
    assert!(matches!(
        parser.parse_line("::Warning::"),
        LineKind::Command {
            command: WorkflowCommand::ResumeCommands { .. },
            ..
        }
    ));
    assert_eq!(
        parser.parse_line("::warning::x"),
        LineKind::Output("::warning::x")
    );
    assert!(matches!(
        parser.parse_line("::error::x"),
        LineKind::Command { .. }
    ));
    // Stopping with it again registers it again.
    parser.parse_line("::stop-commands::warning");
    parser.parse_line("::warning::");
    parser.parse_line("::stop-commands::WARNING");
    assert_eq!(parser.stop_token(), Some("WARNING"));
}

#[test]
fn failures_quote_the_line_or_just_the_name() {
    let failure = CommandFailure {
        summary: Some("Unable to process command '::echo::x' successfully.".into()),
        message: "why".into(),
    };
    assert_eq!(
        failure.lines().collect::<Vec<_>>(),
        ["Unable to process command '::echo::x' successfully.", "why"]
    );
    assert_eq!(
        failure.to_string(),
        "Unable to process command '::echo::x' successfully. why"
    );
    let bare = CommandFailure {
        summary: None,
        message: "why".into(),
    };
    assert_eq!(bare.lines().collect::<Vec<_>>(), ["why"]);
}

#[test]
fn parser_state_is_per_instance() {
    let mut a = CommandParser::new();
    let mut b = a.clone();
    a.parse_line("::stop-commands::tokentoken");
    assert_eq!(a.stop_token(), Some("tokentoken"));
    assert_eq!(b.stop_token(), None);
    assert!(matches!(
        b.parse_line("::debug::x"),
        LineKind::Command { .. }
    ));
    assert!(!CommandParser::default().echo());
}
