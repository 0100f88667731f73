//! `GITHUB_OUTPUT`/`GITHUB_ENV`/`GITHUB_STATE` and `GITHUB_PATH` parsing.

use sluice_exec::file_commands::{
    BLOCKED_ENV_VARS, BlockedEnvVar, FileCommandError, FileCommandErrorKind, Newlines,
    check_env_name, decode_file, parse_key_values, parse_key_values_until_error,
    parse_key_values_with, parse_path_file,
};

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn parse_lf(text: &str) -> Result<Vec<(String, String)>, FileCommandError> {
    parse_key_values_with(text, "GITHUB_OUTPUT", Newlines::Lf)
}

fn parse_crlf(text: &str) -> Result<Vec<(String, String)>, FileCommandError> {
    parse_key_values_with(text, "GITHUB_OUTPUT", Newlines::CrLf)
}

#[test]
fn valid_files() {
    let cases: Vec<(&str, Vec<(String, String)>)> = vec![
        ("", pairs(&[])),
        ("\n\n\n", pairs(&[])),
        (
            "SELECTED_COLOR=green\n",
            pairs(&[("SELECTED_COLOR", "green")]),
        ),
        ("processID=12345", pairs(&[("processID", "12345")])),
        (
            "a=1\nb=2\na=3\n",
            pairs(&[("a", "1"), ("b", "2"), ("a", "3")]),
        ),
        ("a=b=c\n", pairs(&[("a", "b=c")])),
        ("a=\n", pairs(&[("a", "")])),
        ("a = b \n", pairs(&[("a ", " b ")])),
        ("a=b<<c\n", pairs(&[("a", "b<<c")])),
        ("\n\na=1\n\n\nb=2\n\n", pairs(&[("a", "1"), ("b", "2")])),
        ("\u{feff}a=1\n", pairs(&[("a", "1")])),
        ("名前=値 \u{1f600}\n", pairs(&[("名前", "値 \u{1f600}")])),
        (
            // GitHub's documented multi-line example.
            "JSON_RESPONSE<<EOF\n{\"a\": 1,\n \"b\": 2}\nEOF\n",
            pairs(&[("JSON_RESPONSE", "{\"a\": 1,\n \"b\": 2}")]),
        ),
        ("a<<EOF\nv\nEOF", pairs(&[("a", "v")])),
        ("a<<EOF\nEOF\n", pairs(&[("a", "")])),
        ("a<<EOF\n\nEOF\n", pairs(&[("a", "")])),
        ("a<<EOF\n\n\nEOF\n", pairs(&[("a", "\n")])),
        (
            "a<<EOF\n  indented\n\ttab \nEOF\n",
            pairs(&[("a", "  indented\n\ttab ")]),
        ),
        // The delimiter inside a line does not end the value.
        (
            "a<<EOF\nxEOF\nEOF x\n EOF\nEOF\n",
            pairs(&[("a", "xEOF\nEOF x\n EOF")]),
        ),
        // Nor does it in another case.
        ("a<<EOF\neof\nEOF\n", pairs(&[("a", "eof")])),
        // The first delimiter line ends it; what follows is parsed again.
        (
            "a<<EOF\nv\nEOF\nb=2\nc<<X\n=\n<<\nX\n",
            pairs(&[("a", "v"), ("b", "2"), ("c", "=\n<<")]),
        ),
        // `<<` first: a heredoc whose delimiter holds `=`.
        ("a<<EOF=1\nv\nEOF=1\n", pairs(&[("a", "v")])),
        ("a << EOF\nv\n EOF\n", pairs(&[("a ", "v")])),
        ("a<<<EOF\nv\n<EOF\n", pairs(&[("a", "v")])),
        (
            "a<<ghadelimiter_0b3c\nline=1\nb<<x\nghadelimiter_0b3c\n",
            pairs(&[("a", "line=1\nb<<x")]),
        ),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_lf(text).as_ref(), Ok(&expected), "LF {text:?}");
        assert_eq!(parse_crlf(text).as_ref(), Ok(&expected), "CRLF {text:?}");
    }
}

#[test]
fn errors_name_the_file_and_line() {
    use FileCommandErrorKind as Kind;
    let cases: Vec<(&str, usize, Kind)> = vec![
        ("x=1\nfoo\n", 2, Kind::InvalidFormat("foo".into())),
        ("   \n", 1, Kind::InvalidFormat("   ".into())),
        ("a<b\n", 1, Kind::InvalidFormat("a<b".into())),
        ("=v\n", 1, Kind::EmptyName("=v".into())),
        ("\n\n=\n", 3, Kind::EmptyName("=".into())),
        (
            "<<EOF\nv\nEOF\n",
            1,
            Kind::EmptyHeredocNameOrDelimiter("<<EOF".into()),
        ),
        (
            "a<<\nv\n\n",
            1,
            Kind::EmptyHeredocNameOrDelimiter("a<<".into()),
        ),
        ("a<<EOF\nv\n", 1, Kind::DelimiterNotFound("EOF".into())),
        ("a<<EOF", 1, Kind::DelimiterNotFound("EOF".into())),
        ("a<<EOF\n", 1, Kind::DelimiterNotFound("EOF".into())),
        (
            "x=1\ny<<EOF\nv\nEOF \n",
            2,
            Kind::DelimiterNotFound("EOF".into()),
        ),
        ("a<<EOF\nv", 1, Kind::EofMarkerMissingNewline),
        ("a<<EOF\nv\nEOFX", 1, Kind::EofMarkerMissingNewline),
    ];
    for (text, line, kind) in cases {
        let expected = FileCommandError {
            file: "GITHUB_OUTPUT".into(),
            line,
            kind,
        };
        assert_eq!(parse_lf(text), Err(expected.clone()), "{text:?}");
        assert_eq!(parse_crlf(text), Err(expected), "{text:?}");
    }
}

#[test]
fn error_messages() {
    let error = parse_key_values("ok=1\nfoo\n", "GITHUB_ENV").unwrap_err();
    assert_eq!(
        error.to_string(),
        "GITHUB_ENV, line 2: Invalid format 'foo'"
    );
    assert_eq!(error.kind.to_string(), "Invalid format 'foo'");
    for (text, message) in [
        ("=v", "Invalid format '=v'. Name must not be empty"),
        (
            "a<<",
            "Invalid format 'a<<'. Name must not be empty and delimiter must not be empty",
        ),
        (
            "a<<EOF\n",
            "Invalid value. Matching delimiter not found 'EOF'",
        ),
        ("a<<EOF\nx", "Invalid value. EOF marker missing new line."),
    ] {
        assert_eq!(
            parse_key_values(text, "GITHUB_STATE")
                .unwrap_err()
                .kind
                .to_string(),
            message
        );
    }
}

#[test]
fn pairs_before_an_error_are_kept() {
    let (pairs_read, error) = parse_key_values_until_error(
        "a=1\nb<<EOF\nx\nEOF\nbad\nc=3\n",
        "GITHUB_OUTPUT",
        Newlines::Lf,
    );
    assert_eq!(pairs_read, pairs(&[("a", "1"), ("b", "x")]));
    assert_eq!(error.map(|e| e.line), Some(5));
    let (pairs_read, error) =
        parse_key_values_until_error("a=1\nb=2", "GITHUB_OUTPUT", Newlines::Lf);
    assert_eq!(pairs_read, pairs(&[("a", "1"), ("b", "2")]));
    assert_eq!(error, None);
}

#[test]
fn carriage_returns_on_unix_runners() {
    // Like GitHub's runner on Linux and macOS, only `\n` ends a line.
    assert_eq!(
        parse_lf("a=1\r\nb=2\r\n"),
        Ok(pairs(&[("a", "1\r"), ("b", "2\r")]))
    );
    assert_eq!(
        parse_lf("a<<EOF\r\nl1\r\nl2\r\nEOF\r\n"),
        Ok(pairs(&[("a", "l1\r\nl2\r")]))
    );
    assert_eq!(
        parse_lf("a<<EOF\r\nl1\nEOF\n"),
        Err(FileCommandError {
            file: "GITHUB_OUTPUT".into(),
            line: 1,
            kind: FileCommandErrorKind::DelimiterNotFound("EOF\r".into())
        })
    );
    assert_eq!(
        parse_lf("a=1\r\n\r\n"),
        Err(FileCommandError {
            file: "GITHUB_OUTPUT".into(),
            line: 2,
            kind: FileCommandErrorKind::InvalidFormat("\r".into())
        })
    );
}

#[test]
fn carriage_returns_on_windows_runners() {
    assert_eq!(
        parse_crlf("a=1\r\nb=2\r\n"),
        Ok(pairs(&[("a", "1"), ("b", "2")]))
    );
    assert_eq!(
        parse_crlf("a=1\r\n\r\nb=2"),
        Ok(pairs(&[("a", "1"), ("b", "2")]))
    );
    assert_eq!(
        parse_crlf("a<<EOF\r\nl1\r\nl2\r\nEOF\r\n"),
        Ok(pairs(&[("a", "l1\r\nl2")]))
    );
    // Each line ending is kept as written inside a value.
    assert_eq!(
        parse_crlf("a<<EOF\r\nl1\nl2\r\nl3\nEOF\n"),
        Ok(pairs(&[("a", "l1\nl2\r\nl3")]))
    );
    // A lone `\r` is not a line ending.
    assert_eq!(parse_crlf("a=1\rb=2\n"), Ok(pairs(&[("a", "1\rb=2")])));
    assert_eq!(parse_crlf("a=1\r"), Ok(pairs(&[("a", "1\r")])));
}

#[test]
fn host_default() {
    let expected = if cfg!(windows) {
        Newlines::CrLf
    } else {
        Newlines::Lf
    };
    assert_eq!(Newlines::HOST, expected);
    assert_eq!(
        parse_key_values("a=1\r\n", "GITHUB_OUTPUT"),
        parse_key_values_with("a=1\r\n", "GITHUB_OUTPUT", expected)
    );
}

#[test]
fn path_files() {
    let cases: Vec<(&str, Vec<&str>)> = vec![
        ("", vec![]),
        ("\n\r\n\r", vec![]),
        ("/home/runner/.local/bin\n", vec!["/home/runner/.local/bin"]),
        ("/a\n/b\r\n\n/c\r/d", vec!["/a", "/b", "/c", "/d"]),
        (" /with space \n", vec![" /with space "]),
        ("\u{feff}C:\\tools\r\n", vec!["C:\\tools"]),
        ("/a\n/a\n", vec!["/a", "/a"]),
        ("=not<<special\n", vec!["=not<<special"]),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_path_file(text), expected, "{text:?}");
    }
}

#[test]
fn blocked_env_vars() {
    assert_eq!(BLOCKED_ENV_VARS, ["NODE_OPTIONS"]);
    for name in ["NODE_OPTIONS", "node_options", "Node_Options"] {
        let blocked = check_env_name(name).unwrap_err();
        assert_eq!(
            blocked,
            BlockedEnvVar {
                name: "NODE_OPTIONS"
            }
        );
        assert_eq!(
            blocked.to_string(),
            "Can't store NODE_OPTIONS output parameter using '$GITHUB_ENV' command."
        );
    }
    for name in ["NODE_OPTIONS_X", "XNODE_OPTIONS", "NODE", "PATH", ""] {
        assert_eq!(check_env_name(name), Ok(()), "{name}");
    }
}

#[test]
fn decoding() {
    assert_eq!(decode_file(b"a=1\n"), "a=1\n");
    assert_eq!(decode_file(b"\xEF\xBB\xBFa=1\n"), "a=1\n");
    assert_eq!(decode_file(b"a=\xFF\n"), "a=\u{fffd}\n");
    assert_eq!(decode_file(b""), "");
    let utf16le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain("a=é\u{1f600}\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(decode_file(&utf16le), "a=é\u{1f600}\n");
    let utf16be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain("a=é\n".encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    assert_eq!(decode_file(&utf16be), "a=é\n");
    let utf32le: Vec<u8> = [0xFF, 0xFE, 0, 0]
        .into_iter()
        .chain(
            "a=\u{1f600}"
                .chars()
                .flat_map(|c| u32::from(c).to_le_bytes()),
        )
        .collect();
    assert_eq!(decode_file(&utf32le), "a=\u{1f600}");
    let utf32be: Vec<u8> = [0, 0, 0xFE, 0xFF]
        .into_iter()
        .chain("a".chars().flat_map(|c| u32::from(c).to_be_bytes()))
        .collect();
    assert_eq!(decode_file(&utf32be), "a");
    // A dangling byte and a lone surrogate become replacement characters.
    assert_eq!(decode_file(&[0xFF, 0xFE, b'a', 0, b'b']), "a\u{fffd}");
    assert_eq!(decode_file(&[0xFF, 0xFE, 0x00, 0xD8, b'a', 0]), "\u{fffd}a");
    assert_eq!(decode_file(&[0xFF, 0xFE, 0, 0, 0, 0, 0x11, 0]), "\u{fffd}");
}
