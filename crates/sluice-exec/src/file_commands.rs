//! File commands: the files behind `GITHUB_OUTPUT`, `GITHUB_ENV`,
//! `GITHUB_STATE` (key/value) and `GITHUB_PATH` (one directory per line),
//! read after each step the way GitHub's runner reads them.
//!
//! Key/value files hold, line by line:
//!
//! - `name=value`: the name runs to the first `=`, the value is the rest of
//!   the line, kept exactly (spaces, further `=`).
//! - `name<<DELIMITER`, then the value's lines, then a line that is exactly
//!   `DELIMITER`. Whichever of `=` and `<<` comes first decides the form,
//!   so `a=b<<c` sets `a` to `b<<c` and `a<<EOF=` uses the delimiter
//!   `EOF=`. The value ends at the first line equal to the delimiter; the
//!   delimiter may appear inside other lines, and the value keeps its
//!   inner line breaks but not the one before the delimiter. A file that
//!   ends before the delimiter line is an error (worded differently when
//!   its last line has no newline); the delimiter line itself may end the
//!   file without one.
//! - Empty lines between entries are skipped; anything else is an error.
//!
//! Line endings are the host runner's: on Linux and macOS only `\n` ends a
//! line (a `\r` before it stays in the name or value), on Windows `\r\n`
//! does too. [`Newlines`] picks either explicitly.
//!
//! Sluice departs from GitHub in one place: GitHub accepts an empty name
//! (`=value`) through a slip in its check, although its error message
//! says names must not be empty; Sluice reports the error.

use std::borrow::Cow;

/// Which line terminators a key/value file uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Newlines {
    /// Only `\n` ends a line (GitHub's runner on Linux and macOS).
    Lf,
    /// `\r\n` or `\n` ends a line (GitHub's runner on Windows).
    CrLf,
}

impl Newlines {
    /// The convention of GitHub's runner on this operating system.
    pub const HOST: Newlines = if cfg!(windows) {
        Newlines::CrLf
    } else {
        Newlines::Lf
    };
}

/// A key/value file GitHub would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}, line {line}: {kind}")]
pub struct FileCommandError {
    /// The label given by the caller, such as `GITHUB_OUTPUT`.
    pub file: String,
    /// 1-based; for an unterminated multi-line value, the `name<<DELIMITER`
    /// line.
    pub line: usize,
    pub kind: FileCommandErrorKind,
}

/// What is wrong, in GitHub's words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileCommandErrorKind {
    /// Neither `=` nor `<<` on a non-empty line.
    #[error("Invalid format '{0}'")]
    InvalidFormat(String),
    /// `=value`.
    #[error("Invalid format '{0}'. Name must not be empty")]
    EmptyName(String),
    /// `<<EOF` or `name<<`.
    #[error("Invalid format '{0}'. Name must not be empty and delimiter must not be empty")]
    EmptyHeredocNameOrDelimiter(String),
    /// The file ended before a line equal to the delimiter.
    #[error("Invalid value. Matching delimiter not found '{0}'")]
    DelimiterNotFound(String),
    /// The file's last line, without a newline, is not the delimiter.
    #[error("Invalid value. EOF marker missing new line.")]
    EofMarkerMissingNewline,
}

/// Parses a key/value file with the host's line endings. Pairs come in
/// file order; a later pair for the same name overrides an earlier one
/// when the caller applies them.
pub fn parse_key_values(
    text: &str,
    file_label: &str,
) -> Result<Vec<(String, String)>, FileCommandError> {
    parse_key_values_with(text, file_label, Newlines::HOST)
}

/// [`parse_key_values`] with explicit line endings.
pub fn parse_key_values_with(
    text: &str,
    file_label: &str,
    newlines: Newlines,
) -> Result<Vec<(String, String)>, FileCommandError> {
    match parse_key_values_until_error(text, file_label, newlines) {
        (pairs, None) => Ok(pairs),
        (_, Some(error)) => Err(error),
    }
}

/// The pairs before the first error, and the error. GitHub applies each
/// pair as it reads it, so on a bad line the earlier pairs are set and the
/// step fails; this gives a runner what it needs to do the same.
pub fn parse_key_values_until_error(
    text: &str,
    file_label: &str,
    newlines: Newlines,
) -> (Vec<(String, String)>, Option<FileCommandError>) {
    let mut pairs = Vec::new();
    let mut reader = LineReader::new(strip_bom(text), newlines);
    let error = |line: usize, kind| FileCommandError {
        file: file_label.to_string(),
        line,
        kind,
    };
    while let Some((line, _)) = reader.next_line() {
        if line.is_empty() {
            continue;
        }
        let number = reader.line_number;
        let equals = line.find('=');
        let heredoc = line.find("<<");
        let is_simple = match (equals, heredoc) {
            (Some(e), Some(h)) => e < h,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => {
                let kind = FileCommandErrorKind::InvalidFormat(line.to_string());
                return (pairs, Some(error(number, kind)));
            }
        };
        if is_simple {
            let (name, value) = line.split_once('=').unwrap_or((line, ""));
            if name.is_empty() {
                let kind = FileCommandErrorKind::EmptyName(line.to_string());
                return (pairs, Some(error(number, kind)));
            }
            pairs.push((name.to_string(), value.to_string()));
            continue;
        }
        let (name, delimiter) = line.split_once("<<").unwrap_or((line, ""));
        if name.is_empty() || delimiter.is_empty() {
            let kind = FileCommandErrorKind::EmptyHeredocNameOrDelimiter(line.to_string());
            return (pairs, Some(error(number, kind)));
        }
        let start = reader.index;
        let mut end = start;
        loop {
            match reader.next_line() {
                Some((candidate, _)) if candidate == delimiter => break,
                None => {
                    let kind = FileCommandErrorKind::DelimiterNotFound(delimiter.to_string());
                    return (pairs, Some(error(number, kind)));
                }
                Some((_, None)) => {
                    let kind = FileCommandErrorKind::EofMarkerMissingNewline;
                    return (pairs, Some(error(number, kind)));
                }
                Some((_, Some(newline_len))) => end = reader.index - newline_len,
            }
        }
        let value = reader.text.get(start..end).unwrap_or("");
        pairs.push((name.to_string(), value.to_string()));
    }
    (pairs, None)
}

/// Splits text into lines the way GitHub's runner does for these files.
struct LineReader<'a> {
    text: &'a str,
    newlines: Newlines,
    /// Byte offset of the next line.
    index: usize,
    /// 1-based number of the line last returned.
    line_number: usize,
}

impl<'a> LineReader<'a> {
    fn new(text: &'a str, newlines: Newlines) -> Self {
        LineReader {
            text,
            newlines,
            index: 0,
            line_number: 0,
        }
    }

    /// The next line and the length of its terminator (`None` for a last
    /// line without one). No line is returned after a final newline.
    fn next_line(&mut self) -> Option<(&'a str, Option<usize>)> {
        let rest = self
            .text
            .get(self.index..)
            .filter(|rest| !rest.is_empty())?;
        self.line_number += 1;
        let Some(lf) = rest.find('\n') else {
            self.index = self.text.len();
            return Some((rest, None));
        };
        self.index += lf + 1;
        let line = &rest[..lf];
        if self.newlines == Newlines::CrLf
            && let Some(line) = line.strip_suffix('\r')
        {
            return Some((line, Some(2)));
        }
        Some((line, Some(1)))
    }
}

/// Parses a `GITHUB_PATH` file: one directory per line, lines ended by
/// `\n`, `\r\n` or `\r` on every platform, empty lines skipped, nothing
/// trimmed. GitHub prepends each line in turn to the step `PATH` (moving
/// it to the front if already there), so the last line ends up first.
pub fn parse_path_file(text: &str) -> Vec<String> {
    strip_bom(text)
        .split(['\n', '\r'])
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect()
}

/// Environment variables steps may not set through `GITHUB_ENV` (compared
/// case-insensitively).
pub const BLOCKED_ENV_VARS: &[&str] = &["NODE_OPTIONS"];

/// A `GITHUB_ENV` assignment GitHub refuses: it reports an error
/// annotation with this message, skips the variable and carries on; the
/// step does not fail for it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Can't store {name} output parameter using '$GITHUB_ENV' command.")]
pub struct BlockedEnvVar {
    /// The blocked variable, spelled as in [`BLOCKED_ENV_VARS`].
    pub name: &'static str,
}

/// Checks a name read from `GITHUB_ENV` against [`BLOCKED_ENV_VARS`].
pub fn check_env_name(name: &str) -> Result<(), BlockedEnvVar> {
    match BLOCKED_ENV_VARS
        .iter()
        .find(|blocked| blocked.eq_ignore_ascii_case(name))
    {
        Some(blocked) => Err(BlockedEnvVar { name: blocked }),
        None => Ok(()),
    }
}

/// Decodes a command file's bytes as GitHub's runner does: a byte order
/// mark selects UTF-8, UTF-16 or UTF-32 (Windows PowerShell 5 writes
/// UTF-16 by default); without one the bytes are UTF-8. Invalid sequences
/// become U+FFFD.
pub fn decode_file(bytes: &[u8]) -> Cow<'_, str> {
    match bytes {
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest),
        [0xFF, 0xFE, 0x00, 0x00, rest @ ..] => Cow::Owned(decode_utf32(rest, u32::from_le_bytes)),
        [0x00, 0x00, 0xFE, 0xFF, rest @ ..] => Cow::Owned(decode_utf32(rest, u32::from_be_bytes)),
        [0xFF, 0xFE, rest @ ..] => Cow::Owned(decode_utf16(rest, u16::from_le_bytes)),
        [0xFE, 0xFF, rest @ ..] => Cow::Owned(decode_utf16(rest, u16::from_be_bytes)),
        _ => String::from_utf8_lossy(bytes),
    }
}

fn decode_utf16(bytes: &[u8], unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes.chunks(2).map(|pair| match pair {
        [a, b] => unit([*a, *b]),
        // A dangling byte is not a character.
        _ => 0xFFFD,
    });
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn decode_utf32(bytes: &[u8], unit: fn([u8; 4]) -> u32) -> String {
    bytes
        .chunks(4)
        .map(|chunk| match chunk {
            [a, b, c, d] => char::from_u32(unit([*a, *b, *c, *d])),
            _ => None,
        })
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}
