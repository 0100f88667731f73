//! Why a file is not a test report Sluice will read.

/// A report that cannot be read, with where in it the problem is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}:{column}: {problem}")]
pub struct ReportError {
    /// 1-based; columns count characters.
    pub line: usize,
    pub column: usize,
    pub problem: String,
}

impl ReportError {
    /// An error at byte `offset` of `text`.
    pub(crate) fn at(text: &[u8], offset: usize, problem: impl Into<String>) -> ReportError {
        let offset = offset.min(text.len());
        let before = &text[..offset];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        ReportError {
            line,
            column,
            problem: problem.into(),
        }
    }
}

/// What a report holds that its format does not allow (an element, a
/// value, a record), in words; the reader adds where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ContentError(pub String);

impl From<String> for ContentError {
    fn from(problem: String) -> Self {
        ContentError(problem)
    }
}

impl From<&str> for ContentError {
    fn from(problem: &str) -> Self {
        ContentError(problem.to_string())
    }
}

impl From<ContentError> for String {
    fn from(error: ContentError) -> Self {
        error.0
    }
}
