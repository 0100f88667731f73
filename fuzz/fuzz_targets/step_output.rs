//! Feeds arbitrary step output through everything that reads it: the
//! workflow command parser (line by line, with masks added as commands
//! ask), the file-command parsers (both line-ending conventions, and the
//! byte decoder), and the masker. Nothing may panic, and no registered
//! secret may survive masking.
//!
//! Input layout: the first byte picks the parser options; the rest, up to
//! the first NUL, is a list of secrets (one per line); after it comes the
//! step output. Without a NUL everything after the first byte is output.

#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use sluice_exec::file_commands::{
    Newlines, check_env_name, decode_file, parse_key_values_until_error, parse_path_file,
};
use sluice_exec::mask::Masker;
use sluice_exec::workflow_commands::{ADD_MASK_ECHO, CommandOptions, CommandParser, LineKind};

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (secrets, output) = match rest.iter().position(|&b| b == 0) {
        Some(nul) => (&rest[..nul], &rest[nul + 1..]),
        None => (&[][..], rest),
    };
    let secrets = String::from_utf8_lossy(secrets);
    let text = decode_file(output);

    let mut masker = Masker::new();
    let mut registered: Vec<String> = Vec::new();
    for secret in secrets.lines() {
        masker.add(secret);
        registered.push(secret.to_string());
    }

    let mut parser = CommandParser::with_options(CommandOptions {
        echo: flags & 1 != 0,
        allow_unsecure_commands: flags & 2 != 0,
        allow_unsecure_stop_tokens: flags & 4 != 0,
    });
    for line in text.split('\n') {
        let parsed = parser.parse_line(line);
        match &parsed {
            LineKind::Output(shown) => assert_eq!(*shown, line),
            LineKind::Command { command, echo } => {
                if let Some(echo) = echo {
                    assert!(*echo == line || *echo == ADD_MASK_ECHO, "{echo:?}");
                }
                if let Some(secret) = command.secret() {
                    masker.add(secret);
                    registered.push(secret.to_string());
                }
                let _ = command.deprecation_warning();
            }
        }
        if let Some(shown) = parsed.shown() {
            check_masked(&masker, &registered, shown);
        }
    }

    for newlines in [Newlines::Lf, Newlines::CrLf] {
        let (pairs, error) = parse_key_values_until_error(&text, "GITHUB_OUTPUT", newlines);
        let lines = text.split('\n').count();
        if let Some(error) = error {
            assert!(error.line >= 1 && error.line <= lines, "{error:?}");
            assert!(!error.to_string().is_empty());
        }
        for (name, value) in &pairs {
            assert!(!name.is_empty());
            let _ = check_env_name(name);
            check_masked(&masker, &registered, value);
        }
    }
    for dir in parse_path_file(&text) {
        assert!(!dir.is_empty() && !dir.contains(['\n', '\r']));
    }
    check_masked(&masker, &registered, &text);
});

/// Masking keeps text without secrets as it is and leaves none behind
/// (a secret containing `*` may reappear through the `***` themselves).
fn check_masked(masker: &Masker, secrets: &[String], text: &str) {
    let masked = masker.mask(text);
    if masker.is_empty() {
        assert_eq!(masked, text);
    }
    assert_eq!(masker.has_secret(text), matches!(masked, Cow::Owned(_)));
    for secret in secrets {
        if !secret.trim().is_empty() && !secret.contains('*') {
            assert!(
                !masked.contains(secret.as_str()),
                "{secret:?} left in {masked:?}"
            );
        }
    }
}
