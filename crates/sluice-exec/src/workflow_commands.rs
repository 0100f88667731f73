//! Workflow commands: the `::name key=value,key2=value2::message` lines a
//! step prints on stdout to talk to the runner.
//!
//! This follows GitHub's runner (`ActionCommand` and `ActionCommandManager`)
//! rule for rule, because workflows in the wild depend on its quirks:
//!
//! - A line is a command if, after leading whitespace, it starts with `::`
//!   and has a second `::`; the name runs to the first space and the
//!   properties follow it. Failing that, the legacy form `##[name
//!   key=value;key2=value2]message` is recognised anywhere in the line.
//! - Command and property names are case-insensitive. A name GitHub does
//!   not know leaves the line as ordinary output.
//! - Properties are split on `,` (`;` in the legacy form), each at its
//!   first `=`; empty pieces are dropped, so `line=` is the same as no
//!   `line` at all. Keys are not trimmed: in `::error file=a, line=3::` the
//!   second key is ` line`, which GitHub ignores.
//! - Escapes are decoded in one pass: the message knows `%25` `%0D` `%0A`,
//!   property values also `%3A` `%2C`, and the legacy form `%3B` `%5D`.
//!   Anything else after a `%` is kept literally.
//! - `::stop-commands::TOKEN` turns commands off until a command named
//!   `TOKEN` (`::TOKEN::`) arrives. GitHub refuses an empty token, a token
//!   that is a command name, and `pause-logging`, unless
//!   `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` is set.
//! - `set-env` and `add-path` were disabled in 2020; unless
//!   `ACTIONS_ALLOW_UNSECURE_COMMANDS` is true they fail the step with
//!   GitHub's message.
//!
//! The parser only decides; the step runner acts: it sets outputs, adds
//! masks, renders annotations and fails the step on
//! [`WorkflowCommand::Failed`]. Every line must be masked before it is
//! shown, command echoes included.

use std::fmt;

use sluice_expr::eq_ignore_case;

/// Process or `env`-context variable that re-enables `set-env` and `add-path`.
pub const ALLOW_UNSECURE_COMMANDS_VAR: &str = "ACTIONS_ALLOW_UNSECURE_COMMANDS";

/// Process or `env`-context variable that lets `stop-commands` take a token
/// GitHub would otherwise refuse.
pub const ALLOW_UNSECURE_STOP_TOKENS_VAR: &str = "ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS";

/// GitHub's answer to `set-env` and `add-path` when they are disabled.
pub fn unsupported_command_disabled_message(command: &str) -> String {
    format!(
        "The `{command}` command is disabled. Please upgrade to using Environment Files or opt \
         into unsecure command execution by setting the `ACTIONS_ALLOW_UNSECURE_COMMANDS` \
         environment variable to `true`. For more information see: \
         https://github.blog/changelog/2020-10-01-github-actions-deprecating-set-env-and-add-path-commands/"
    )
}

/// GitHub's warning on every use of `set-output` and `save-state`.
pub fn deprecated_command_message(command: &str) -> String {
    format!(
        "The `{command}` command is deprecated and will be disabled soon. Please upgrade to \
         using Environment Files. For more information see: \
         https://github.blog/changelog/2022-10-11-github-actions-deprecating-save-state-and-set-output-commands/"
    )
}

/// GitHub's error for a refused `stop-commands` token.
pub const UNSUPPORTED_STOP_TOKEN_MESSAGE: &str = "You cannot use a endToken that is an empty \
     string, the string 'pause-logging', or another workflow command. For more information see: \
     https://docs.github.com/actions/learn-github-actions/workflow-commands-for-github-actions#example-stopping-and-starting-workflow-commands \
     or opt into insecure command execution by setting the \
     `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` environment variable to `true`.";

/// What the log shows in place of an `add-mask` line while echo is on.
pub const ADD_MASK_ECHO: &str = "::add-mask::***";

/// Whether a value of [`ALLOW_UNSECURE_COMMANDS_VAR`] opts in. GitHub parses
/// it as a .NET boolean: `true` in any case, surrounding whitespace ignored.
pub fn allows_unsecure_commands(value: &str) -> bool {
    value
        .trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .eq_ignore_ascii_case("true")
}

/// Whether a value of [`ALLOW_UNSECURE_STOP_TOKENS_VAR`] opts in. GitHub
/// accepts `1`, `true` and `$true` here, in any case, and nothing else.
pub fn allows_unsecure_stop_tokens(value: &str) -> bool {
    ["1", "true", "$true"]
        .iter()
        .any(|accepted| value.eq_ignore_ascii_case(accepted))
}

/// How a step's command parser starts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommandOptions {
    /// Echo command lines from the start. GitHub turns this on when step
    /// debug logging (`ACTIONS_STEP_DEBUG`) is enabled.
    pub echo: bool,
    /// `ACTIONS_ALLOW_UNSECURE_COMMANDS` is true (see
    /// [`allows_unsecure_commands`]) in the runner's environment or the
    /// step's `env` context.
    pub allow_unsecure_commands: bool,
    /// `ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS` is true (see
    /// [`allows_unsecure_stop_tokens`]) likewise.
    pub allow_unsecure_stop_tokens: bool,
}

/// One line of step output, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind<'a> {
    /// Ordinary output (including command-like lines GitHub ignores):
    /// show it, masked.
    Output(&'a str),
    /// A workflow command for the runner to act on.
    Command {
        command: WorkflowCommand,
        /// What the log shows for this line, if anything: the line itself
        /// when echo is on (and for `stop-commands` and its resume token,
        /// always), [`ADD_MASK_ECHO`] for `add-mask`. Mask it too, after
        /// applying the command's [`WorkflowCommand::secret`].
        echo: Option<&'a str>,
    },
}

impl<'a> LineKind<'a> {
    /// The text the log shows for this line, if any (before masking).
    /// GitHub hides command lines unless echo is on; annotations, groups
    /// and debug messages are rendered from the command instead.
    pub fn shown(&self) -> Option<&'a str> {
        match self {
            LineKind::Output(line) => Some(line),
            LineKind::Command { echo, .. } => *echo,
        }
    }
}

/// A string that must not end up in a log: `Debug` prints `***`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(***)")
    }
}

/// A workflow command the runner must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkflowCommand {
    /// `::add-mask::value`: mask `value` (and each of its lines) from now
    /// on. Empty or blank values become a [`WorkflowCommand::Problem`].
    AddMask { value: SecretString },
    /// `::group::title`: start a collapsible group.
    Group { title: String },
    /// `::endgroup::`.
    EndGroup,
    /// `::error`, `::warning`, `::notice`.
    Annotation(Annotation),
    /// `::debug::message`: shown only when step debug logging is on.
    Debug { message: String },
    /// Legacy `::set-output name=x::value` (see
    /// [`WorkflowCommand::deprecation_warning`]).
    SetOutput { name: String, value: String },
    /// Legacy `::save-state name=x::value`.
    SaveState { name: String, value: String },
    /// `::stop-commands::token`: no commands until `::token::`. Mask the
    /// token first if [`WorkflowCommand::secret`] says so.
    StopCommands { token: String },
    /// The `::token::` line that resumes command processing.
    ResumeCommands { token: String },
    /// `::echo::on` / `::echo::off`.
    Echo { enabled: bool },
    /// `::set-env name=x::value`, only when unsecure commands are allowed.
    SetEnv { name: String, value: String },
    /// `::add-path::dir`, only when unsecure commands are allowed.
    AddPath { path: String },
    /// `::add-matcher::file.json`: register problem matchers.
    AddMatcher { file: String },
    /// `::remove-matcher owner=x::` or `::remove-matcher::file.json`.
    RemoveMatcher(MatcherRef),
    /// GitHub reports a problem as an annotation of this level and ignores
    /// the command; the step's result is unchanged.
    Problem {
        level: AnnotationLevel,
        message: String,
    },
    /// GitHub could not process the command: print the failure's lines as
    /// errors and fail the step.
    Failed(CommandFailure),
}

impl WorkflowCommand {
    /// A value the runner must add to its masker before printing anything
    /// for this line: the `add-mask` value, and a `stop-commands` token
    /// longer than six UTF-16 units (GitHub masks those for the whole run).
    pub fn secret(&self) -> Option<&str> {
        match self {
            WorkflowCommand::AddMask { value } => Some(value.expose()),
            WorkflowCommand::StopCommands { token } if token.encode_utf16().count() > 6 => {
                Some(token)
            }
            _ => None,
        }
    }

    /// The warning GitHub adds for the deprecated `set-output` and
    /// `save-state` commands (they still work).
    pub fn deprecation_warning(&self) -> Option<String> {
        match self {
            WorkflowCommand::SetOutput { .. } => Some(deprecated_command_message("set-output")),
            WorkflowCommand::SaveState { .. } => Some(deprecated_command_message("save-state")),
            _ => None,
        }
    }
}

/// Which problem matchers `remove-matcher` removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MatcherRef {
    Owner(String),
    File(String),
}

/// A command GitHub failed to process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandFailure {
    /// `Unable to process command '…' successfully.` where GitHub prints
    /// one; the quoted text is the line, or just the command name for
    /// commands that never echo.
    pub summary: Option<String>,
    /// Why.
    pub message: String,
}

impl CommandFailure {
    fn unable(command_info: &str, message: impl Into<String>) -> Self {
        CommandFailure {
            summary: Some(format!(
                "Unable to process command '{command_info}' successfully."
            )),
            message: message.into(),
        }
    }

    /// The error lines GitHub prints, in order.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        self.summary
            .as_deref()
            .into_iter()
            .chain(std::iter::once(self.message.as_str()))
    }
}

impl fmt::Display for CommandFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(summary) = &self.summary {
            write!(f, "{summary} ")?;
        }
        f.write_str(&self.message)
    }
}

/// Severity of an annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnnotationLevel {
    Error,
    Warning,
    Notice,
}

impl AnnotationLevel {
    /// The command name, as in `::warning::`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnnotationLevel::Error => "error",
            AnnotationLevel::Warning => "warning",
            AnnotationLevel::Notice => "notice",
        }
    }
}

/// An `::error`, `::warning` or `::notice` annotation, with GitHub's
/// line/column rules applied: `endLine` alone becomes `line`, `endColumn`
/// alone becomes `col`; columns go when there is no line or the lines
/// differ; a range that ends before it starts is dropped.
///
/// Positions that are not numbers are dropped (GitHub forwards them, and
/// they have no effect); `file` is as given, not yet made relative to the
/// workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub level: AnnotationLevel,
    pub message: String,
    pub title: Option<String>,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub end_line: Option<u32>,
    pub col: Option<u32>,
    pub end_column: Option<u32>,
}

/// The commands GitHub registers (besides a `stop-commands` token).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    StopCommands,
    SetEnv,
    SetOutput,
    SaveState,
    AddMask,
    AddPath,
    AddMatcher,
    RemoveMatcher,
    Debug,
    Warning,
    Error,
    Notice,
    Group,
    EndGroup,
    Echo,
}

const BUILTINS: &[(&str, Builtin)] = &[
    ("stop-commands", Builtin::StopCommands),
    ("set-env", Builtin::SetEnv),
    ("set-output", Builtin::SetOutput),
    ("save-state", Builtin::SaveState),
    ("add-mask", Builtin::AddMask),
    ("add-path", Builtin::AddPath),
    ("add-matcher", Builtin::AddMatcher),
    ("remove-matcher", Builtin::RemoveMatcher),
    ("debug", Builtin::Debug),
    ("warning", Builtin::Warning),
    ("error", Builtin::Error),
    ("notice", Builtin::Notice),
    ("group", Builtin::Group),
    ("endgroup", Builtin::EndGroup),
    ("echo", Builtin::Echo),
];

impl Builtin {
    fn named(name: &str) -> Option<Builtin> {
        BUILTINS
            .iter()
            .find(|(known, _)| eq_ignore_case(known, name))
            .map(|&(_, builtin)| builtin)
    }

    /// GitHub never echoes these lines (they may carry secrets, or are
    /// rendered in their own way).
    fn omits_echo(self) -> bool {
        matches!(
            self,
            Builtin::AddMask | Builtin::Debug | Builtin::Warning | Builtin::Error | Builtin::Notice
        )
    }

    fn name(self) -> &'static str {
        BUILTINS
            .iter()
            .find(|&&(_, builtin)| builtin == self)
            .map_or("", |&(name, _)| name)
    }
}

/// Parses a step's output line by line. One per step: `stop-commands` and
/// `echo` last until the step ends.
#[derive(Debug, Clone)]
pub struct CommandParser {
    options: CommandOptions,
    echo: bool,
    stop_token: Option<String>,
    /// Built-in commands a resume removed from the registered set: GitHub
    /// unregisters the token on resume even when (with unsecure tokens
    /// allowed) the token was a command name.
    unregistered: Vec<Builtin>,
}

impl Default for CommandParser {
    fn default() -> Self {
        CommandParser::new()
    }
}

impl CommandParser {
    /// A parser with GitHub's defaults: echo off, unsecure commands and
    /// stop tokens refused.
    pub fn new() -> Self {
        CommandParser::with_options(CommandOptions::default())
    }

    pub fn with_options(options: CommandOptions) -> Self {
        CommandParser {
            options,
            echo: options.echo,
            stop_token: None,
            unregistered: Vec::new(),
        }
    }

    /// Whether command lines are currently echoed.
    pub fn echo(&self) -> bool {
        self.echo
    }

    /// The token that resumes command processing, while stopped.
    pub fn stop_token(&self) -> Option<&str> {
        self.stop_token.as_deref()
    }

    /// Classifies one line of output (without its line terminator).
    pub fn parse_line<'a>(&mut self, line: &'a str) -> LineKind<'a> {
        // Most lines are plain output; GitHub does the same pre-check.
        if !line.contains("::") && !line.contains("##[") {
            return LineKind::Output(line);
        }
        let Some(raw) = parse_v2(line, |name| self.is_registered(name))
            .or_else(|| parse_legacy(line, |name| self.is_registered(name)))
        else {
            return LineKind::Output(line);
        };

        if let Some(token) = &self.stop_token {
            if !token.is_empty() && eq_ignore_case(raw.name, token) {
                if let Some(builtin) = Builtin::named(token) {
                    self.unregistered.push(builtin);
                }
                let token = self.stop_token.take().unwrap_or_default();
                return LineKind::Command {
                    command: WorkflowCommand::ResumeCommands { token },
                    echo: Some(line),
                };
            }
            return LineKind::Output(line);
        }

        let Some(builtin) = Builtin::named(raw.name) else {
            // Only a stop token is registered without being a builtin, and
            // there is none while commands are processed.
            return LineKind::Output(line);
        };

        let echo = (self.echo && !builtin.omits_echo()).then_some(line);
        let failure_info = if builtin.omits_echo() {
            builtin.name()
        } else {
            line
        };
        let unable =
            |message: &str| WorkflowCommand::Failed(CommandFailure::unable(failure_info, message));
        let command = match builtin {
            Builtin::StopCommands => return self.stop(raw.data, line),
            Builtin::SetEnv => {
                if !self.options.allow_unsecure_commands {
                    unable(&unsupported_command_disabled_message("set-env"))
                } else {
                    match raw.properties.get("name") {
                        None => unable("Required field 'name' is missing in ##[set-env] command."),
                        Some(name) if eq_ignore_case(name, "NODE_OPTIONS") => {
                            WorkflowCommand::Problem {
                                level: AnnotationLevel::Error,
                                message: "Can't update NODE_OPTIONS environment variable using \
                                          ::set-env:: command."
                                    .to_string(),
                            }
                        }
                        Some(name) => WorkflowCommand::SetEnv {
                            name: name.to_string(),
                            value: raw.data,
                        },
                    }
                }
            }
            Builtin::SetOutput => match raw.properties.get("name") {
                None => unable("Required field 'name' is missing in ##[set-output] command."),
                Some(name) => WorkflowCommand::SetOutput {
                    name: name.to_string(),
                    value: raw.data,
                },
            },
            Builtin::SaveState => match raw.properties.get("name") {
                None => unable("Required field 'name' is missing in ##[save-state] command."),
                Some(name) => WorkflowCommand::SaveState {
                    name: name.to_string(),
                    value: raw.data,
                },
            },
            Builtin::AddMask => {
                if raw.data.trim().is_empty() {
                    WorkflowCommand::Problem {
                        level: AnnotationLevel::Warning,
                        message: "Can't add secret mask for empty string in ##[add-mask] command."
                            .to_string(),
                    }
                } else {
                    let echo = self.echo.then_some(ADD_MASK_ECHO);
                    return LineKind::Command {
                        command: WorkflowCommand::AddMask {
                            value: SecretString(raw.data),
                        },
                        echo,
                    };
                }
            }
            Builtin::AddPath => {
                if !self.options.allow_unsecure_commands {
                    unable(&unsupported_command_disabled_message("add-path"))
                } else if raw.data.is_empty() {
                    unable("Value cannot be null. (Parameter 'path')")
                } else {
                    WorkflowCommand::AddPath { path: raw.data }
                }
            }
            Builtin::AddMatcher => {
                if raw.data.is_empty() {
                    WorkflowCommand::Problem {
                        level: AnnotationLevel::Warning,
                        message: "File path must be specified.".to_string(),
                    }
                } else {
                    WorkflowCommand::AddMatcher { file: raw.data }
                }
            }
            Builtin::RemoveMatcher => {
                let owner = raw.properties.get("owner");
                match (owner, raw.data.is_empty()) {
                    (Some(_), false) => WorkflowCommand::Problem {
                        level: AnnotationLevel::Warning,
                        message: "Either specify an owner name or a file path in \
                                  ##[remove-matcher] command. Both values cannot be set."
                            .to_string(),
                    },
                    (None, true) => WorkflowCommand::Problem {
                        level: AnnotationLevel::Warning,
                        message: "Either an owner name or a file path must be specified in \
                                  ##[remove-matcher] command."
                            .to_string(),
                    },
                    (Some(owner), true) => {
                        WorkflowCommand::RemoveMatcher(MatcherRef::Owner(owner.to_string()))
                    }
                    (None, false) => WorkflowCommand::RemoveMatcher(MatcherRef::File(raw.data)),
                }
            }
            Builtin::Debug => WorkflowCommand::Debug { message: raw.data },
            Builtin::Warning => annotation(AnnotationLevel::Warning, raw),
            Builtin::Error => annotation(AnnotationLevel::Error, raw),
            Builtin::Notice => annotation(AnnotationLevel::Notice, raw),
            Builtin::Group => WorkflowCommand::Group { title: raw.data },
            Builtin::EndGroup => WorkflowCommand::EndGroup,
            Builtin::Echo => {
                if raw.data.is_empty() {
                    unable("Value cannot be null. (Parameter 'value')")
                } else {
                    let value = raw.data.trim();
                    if value.eq_ignore_ascii_case("on") {
                        self.echo = true;
                        WorkflowCommand::Echo { enabled: true }
                    } else if value.eq_ignore_ascii_case("off") {
                        self.echo = false;
                        WorkflowCommand::Echo { enabled: false }
                    } else {
                        unable(&format!(
                            "Invalid echo command value. Possible values can be: 'on', 'off'. \
                             Current value is: '{}'.",
                            raw.data
                        ))
                    }
                }
            }
        };
        LineKind::Command { command, echo }
    }

    fn stop<'a>(&mut self, token: String, line: &'a str) -> LineKind<'a> {
        let refused = token.is_empty()
            || self.is_registered(&token)
            || eq_ignore_case(&token, "pause-logging");
        if refused && !self.options.allow_unsecure_stop_tokens {
            return LineKind::Command {
                command: WorkflowCommand::Failed(CommandFailure {
                    summary: None,
                    message: UNSUPPORTED_STOP_TOKEN_MESSAGE.to_string(),
                }),
                echo: None,
            };
        }
        // Registering the token re-registers a command a resume removed.
        if let Some(builtin) = Builtin::named(&token) {
            self.unregistered.retain(|&removed| removed != builtin);
        }
        self.stop_token = Some(token.clone());
        LineKind::Command {
            command: WorkflowCommand::StopCommands { token },
            echo: Some(line),
        }
    }

    fn is_registered(&self, name: &str) -> bool {
        if let Some(token) = &self.stop_token
            && eq_ignore_case(token, name)
        {
            return true;
        }
        Builtin::named(name).is_some_and(|builtin| !self.unregistered.contains(&builtin))
    }
}

fn annotation(level: AnnotationLevel, raw: RawCommand<'_>) -> WorkflowCommand {
    let props = &raw.properties;
    let mut line = props.get("line").map(str::to_string);
    let mut end_line = props.get("endLine").map(str::to_string);
    let mut column = props.get("col").map(str::to_string);
    let mut end_column = props.get("endColumn").map(str::to_string);

    // GitHub's ValidateLinesAndColumns, including its use of the numbers
    // parsed before any fix-up (0 when absent) and its string comparison.
    let parse = |value: &Option<String>| value.as_deref().and_then(parse_dotnet_int);
    let line_number = parse(&line);
    let end_line_number = parse(&end_line);
    let column_number = parse(&column);
    let end_column_number = parse(&end_column);
    let mut has_start_line = line_number.is_some();
    let has_end_line = end_line_number.is_some();
    let mut has_start_column = column_number.is_some();
    let has_end_column = end_column_number.is_some();
    let has_column = has_start_column || has_end_column;

    if has_end_line && !has_start_line {
        line.clone_from(&end_line);
        has_start_line = true;
    }
    if has_end_column && !has_start_column {
        column.clone_from(&end_column);
        has_start_column = true;
    }
    let mut keep_lines = true;
    let mut keep_columns = true;
    if !has_start_line && has_column {
        keep_columns = false;
    }
    if has_end_line && line != end_line && has_column {
        keep_columns = false;
    }
    if has_start_line && has_end_line && end_line_number.unwrap_or(0) < line_number.unwrap_or(0) {
        keep_lines = false;
    }
    if has_start_column
        && has_end_column
        && end_column_number.unwrap_or(0) < column_number.unwrap_or(0)
    {
        keep_columns = false;
    }
    if !keep_lines {
        line = None;
        end_line = None;
    }
    if !keep_columns {
        column = None;
        end_column = None;
    }
    let position = |value: Option<String>| {
        value
            .as_deref()
            .and_then(parse_dotnet_int)
            .and_then(|n| u32::try_from(n).ok())
    };
    WorkflowCommand::Annotation(Annotation {
        level,
        title: props.get("title").map(str::to_string),
        file: props.get("file").map(str::to_string),
        line: position(line),
        end_line: position(end_line),
        col: position(column),
        end_column: position(end_column),
        message: raw.data,
    })
}

/// .NET `int.TryParse` with its default style: optional ASCII whitespace
/// around, an optional sign, ASCII digits, within `i32`.
fn parse_dotnet_int(text: &str) -> Option<i32> {
    let dotnet_white = |c: char| matches!(c, '\u{9}'..='\u{d}' | ' ');
    let text = text.trim_matches(dotnet_white);
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut value: i64 = 0;
    for digit in digits.bytes() {
        value = value * 10 + i64::from(digit - b'0');
        if value > i64::from(i32::MAX) + 1 {
            return None;
        }
    }
    let value = if negative { -value } else { value };
    i32::try_from(value).ok()
}

/// Command properties: case-insensitive keys, the last value wins.
#[derive(Debug, Default)]
struct Properties(Vec<(String, String)>);

impl Properties {
    fn insert(&mut self, key: &str, value: String) {
        match self.0.iter_mut().find(|(k, _)| eq_ignore_case(k, key)) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key.to_string(), value)),
        }
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| eq_ignore_case(k, key))
            .map(|(_, v)| v.as_str())
    }
}

struct RawCommand<'a> {
    name: &'a str,
    properties: Properties,
    data: String,
}

/// `::name props::data` after leading whitespace.
fn parse_v2<'a>(line: &'a str, is_registered: impl Fn(&str) -> bool) -> Option<RawCommand<'a>> {
    let rest = line.trim_start().strip_prefix("::")?;
    let end = rest.find("::")?;
    let info = &rest[..end];
    let (name, properties) = split_name(info);
    if !is_registered(name) {
        return None;
    }
    let mut parsed = Properties::default();
    if let Some(properties) = properties {
        for entry in properties.trim().split(',') {
            if let Some((key, value)) = split_property(entry) {
                parsed.insert(key, unescape(value, PROPERTY_ESCAPES));
            }
        }
    }
    Some(RawCommand {
        name,
        properties: parsed,
        data: unescape(&rest[end + 2..], DATA_ESCAPES),
    })
}

/// `##[name props]data` anywhere in the line.
fn parse_legacy<'a>(line: &'a str, is_registered: impl Fn(&str) -> bool) -> Option<RawCommand<'a>> {
    let start = line.find("##[")? + 3;
    let rest = &line[start..];
    let end = rest.find(']')?;
    let info = &rest[..end];
    let (name, properties) = split_name(info);
    if !is_registered(name) {
        return None;
    }
    let mut parsed = Properties::default();
    if let Some(properties) = properties {
        for entry in properties.split(';') {
            if let Some((key, value)) = split_property(entry) {
                parsed.insert(key, unescape(value, LEGACY_ESCAPES));
            }
        }
    }
    Some(RawCommand {
        name,
        properties: parsed,
        data: unescape(&rest[end + 1..], LEGACY_ESCAPES),
    })
}

/// The command name runs to the first space; properties follow it, unless
/// the name is empty.
fn split_name(info: &str) -> (&str, Option<&str>) {
    match info.find(' ') {
        Some(0) => ("", None),
        Some(space) => (&info[..space], Some(&info[space + 1..])),
        None => (info, None),
    }
}

/// `key=value` as .NET's `Split('=', 2, RemoveEmptyEntries)` sees it:
/// leading `=` are skipped, the key ends at the next `=`, and the value is
/// the rest without its leading `=`. No key or no value: no property.
fn split_property(entry: &str) -> Option<(&str, &str)> {
    let entry = entry.trim_start_matches('=');
    let (key, value) = entry.split_once('=')?;
    let value = value.trim_start_matches('=');
    (!key.is_empty() && !value.is_empty()).then_some((key, value))
}

const DATA_ESCAPES: &[(&str, char)] = &[("%0D", '\r'), ("%0A", '\n'), ("%25", '%')];
const PROPERTY_ESCAPES: &[(&str, char)] = &[
    ("%0D", '\r'),
    ("%0A", '\n'),
    ("%3A", ':'),
    ("%2C", ','),
    ("%25", '%'),
];
const LEGACY_ESCAPES: &[(&str, char)] = &[
    ("%3B", ';'),
    ("%0D", '\r'),
    ("%0A", '\n'),
    ("%5D", ']'),
    ("%25", '%'),
];

/// Decodes GitHub's escapes in one left-to-right pass. (GitHub replaces
/// each escape in turn over the whole string; as no decoded character is a
/// `%` except the last, that gives the same result.) Escapes are
/// case-sensitive: `%0a` stays as it is.
fn unescape(text: &str, escapes: &[(&str, char)]) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(percent) = rest.find('%') {
        out.push_str(&rest[..percent]);
        let tail = &rest[percent..];
        match escapes.iter().find(|(code, _)| tail.starts_with(code)) {
            Some(&(code, decoded)) => {
                out.push(decoded);
                rest = &tail[code.len()..];
            }
            None => {
                out.push('%');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Escapes a command message as `@actions/core` does: `%`, CR and LF.
pub fn escape_data(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a property value as `@actions/core` does: also `:` and `,`.
pub fn escape_property(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' => out.push_str("%3A"),
            ',' => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    out
}

/// Formats a command line, escaping properties and message; properties
/// with empty values are left out (GitHub would drop them anyway).
pub fn format_command(name: &str, properties: &[(&str, &str)], message: &str) -> String {
    let mut line = format!("::{name}");
    let mut first = true;
    for (key, value) in properties.iter().filter(|(_, value)| !value.is_empty()) {
        line.push(if first { ' ' } else { ',' });
        first = false;
        line.push_str(key);
        line.push('=');
        line.push_str(&escape_property(value));
    }
    line.push_str("::");
    line.push_str(&escape_data(message));
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotnet_int_parsing() {
        for (text, expected) in [
            ("1", Some(1)),
            (" 42 ", Some(42)),
            ("+7", Some(7)),
            ("-3", Some(-3)),
            ("2147483647", Some(i32::MAX)),
            ("-2147483648", Some(i32::MIN)),
            ("2147483648", None),
            ("99999999999999999999", None),
            ("", None),
            ("-", None),
            ("1.0", None),
            ("0x10", None),
            ("١", None),
            ("\u{a0}1", None),
        ] {
            assert_eq!(parse_dotnet_int(text), expected, "{text:?}");
        }
    }

    #[test]
    fn property_splitting_follows_dotnet() {
        for (entry, expected) in [
            ("a=b", Some(("a", "b"))),
            ("a==b", Some(("a", "b"))),
            ("=a=b", Some(("a", "b"))),
            ("a=b=c", Some(("a", "b=c"))),
            ("a=", None),
            ("a==", None),
            ("=", None),
            ("a", None),
            ("", None),
            (" a = b ", Some((" a ", " b "))),
        ] {
            assert_eq!(split_property(entry), expected, "{entry:?}");
        }
    }

    #[test]
    fn case_insensitivity_is_dotnet_ordinal() {
        assert!(eq_ignore_case("ERROR", "error"));
        assert!(!eq_ignore_case("notıce", "NOTICE"), "ı is not i");
        assert!(
            !eq_ignore_case("ſtop-commands", "STOP-COMMANDS"),
            "ſ is not s"
        );
        assert!(eq_ignore_case("débug", "DÉBUG"));
        assert!(!eq_ignore_case("error", "errors"));
        assert!(!eq_ignore_case("straße", "STRASSE"));
    }
}
