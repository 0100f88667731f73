//! The one error type of the crate, worded exactly as GitHub words it.

use thiserror::Error;

/// Which stage rejected the expression.
///
/// The stages matter to callers: lexing and parsing errors are found when a
/// workflow is loaded (nothing has run yet), evaluation errors only when the
/// expression is evaluated against real contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// A character sequence that is not a token (`1 = 2`, `'unclosed`, `0xZZ`).
    Lexing,
    /// Tokens in an order the grammar does not allow, an unknown name, a wrong
    /// number of arguments, an expression nested too deeply; also the
    /// structural errors of `${{ }}` templates.
    Parsing,
    /// A failure while computing the value (`format` with a bad format
    /// string, `fromJSON` of invalid JSON, the memory limit, host functions).
    Evaluation,
}

/// An expression that could not be lexed, parsed or evaluated.
///
/// `Display` prints `message` only, because GitHub's messages already carry
/// the position and the expression text where GitHub puts them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{message}")]
pub struct ExprError {
    /// The stage that failed.
    pub kind: ErrorKind,
    /// The message exactly as GitHub Actions words it.
    pub message: String,
    /// 1-based character position (Unicode scalar values, not bytes) of the
    /// offending token within the text that was parsed, where one is known.
    /// For templates this is relative to the whole template string.
    pub position: Option<usize>,
}

impl ExprError {
    pub(crate) fn new(
        kind: ErrorKind,
        message: impl Into<String>,
        position: Option<usize>,
    ) -> Self {
        ExprError {
            kind,
            message: message.into(),
            position,
        }
    }

    pub(crate) fn evaluation(message: impl Into<String>, position: usize) -> Self {
        ExprError::new(ErrorKind::Evaluation, message, Some(position))
    }

    /// The same error with its position moved by `offset` characters, used
    /// when an expression is embedded in a larger text such as a template.
    pub(crate) fn shifted(mut self, offset: usize) -> Self {
        self.position = self.position.map(|position| position + offset);
        self
    }
}
