//! Coverage reports: Cobertura XML, JaCoCo XML, LCOV and Go cover
//! profiles read into one model (lines with hits, branches), their paths
//! made the repository's, merged across shards, compared with a change
//! (diff coverage) and judged by gates.

mod cobertura;
pub mod diff;
pub mod gate;
mod go_profile;
mod jacoco;
mod lcov;
mod model;
mod paths;
pub mod ranges;

pub use diff::{ChangedLines, DiffCoverage, DiffFile, changed_lines};
pub use gate::{CoverageGate, GateFailure};
pub use model::{CoverageReport, CoverageTotals, FileCoverage, MAX_LINE};
pub use paths::PathContext;

use crate::report_error::ReportError;

/// The largest coverage report read.
pub const MAX_COVERAGE_BYTES: usize = 512 * 1024 * 1024;
/// The deepest nesting of XML elements read.
pub const MAX_DEPTH: usize = 256;

/// The formats read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CoverageFormat {
    Cobertura,
    Jacoco,
    Lcov,
    Go,
}

impl CoverageFormat {
    pub fn name(self) -> &'static str {
        match self {
            CoverageFormat::Cobertura => "cobertura",
            CoverageFormat::Jacoco => "jacoco",
            CoverageFormat::Lcov => "lcov",
            CoverageFormat::Go => "go",
        }
    }

    /// The format from its name.
    pub fn named(name: &str) -> Option<CoverageFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "cobertura" | "xml" => CoverageFormat::Cobertura,
            "jacoco" => CoverageFormat::Jacoco,
            "lcov" | "info" => CoverageFormat::Lcov,
            "go" | "gocov" | "golang" => CoverageFormat::Go,
            _ => return None,
        })
    }

    /// The format a report's first bytes show: XML by its root element,
    /// `mode:` for Go, LCOV's record keys.
    pub fn detect(bytes: &[u8]) -> Option<CoverageFormat> {
        let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
        let start = head.trim_start_matches('\u{feff}').trim_start();
        if start.starts_with('<') {
            return if root_element(start) == Some("report") {
                Some(CoverageFormat::Jacoco)
            } else {
                Some(CoverageFormat::Cobertura)
            };
        }
        if start.starts_with("mode:") {
            return Some(CoverageFormat::Go);
        }
        let lcov_key = |l: &str| ["TN:", "SF:", "DA:"].iter().any(|k| l.starts_with(k));
        start
            .lines()
            .take(5)
            .any(lcov_key)
            .then_some(CoverageFormat::Lcov)
    }
}

/// The name of the first element that is not a declaration, comment or
/// DOCTYPE.
fn root_element(xml: &str) -> Option<&str> {
    let mut rest = xml;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/')?;
        return Some(&rest[..end]);
    }
    None
}

/// Why a file is not a coverage report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoverageError {
    #[error(
        "1:1: not a coverage report Sluice reads (Cobertura or JaCoCo XML, LCOV, a Go cover profile)"
    )]
    UnknownFormat,
    #[error("{0}")]
    Unreadable(#[from] ReportError),
}

/// A coverage report read, its paths as written (see [`PathContext`]).
#[derive(Debug, Clone)]
pub struct ReadCoverage {
    pub format: CoverageFormat,
    pub report: CoverageReport,
    /// Directories the report's paths are relative to (Cobertura's
    /// `<source>`s).
    pub sources: Vec<String>,
}

/// Reads a coverage report, of `format` or of the format its bytes show.
pub fn parse_coverage(
    bytes: &[u8],
    format: Option<CoverageFormat>,
) -> Result<ReadCoverage, CoverageError> {
    let format = format
        .or_else(|| CoverageFormat::detect(bytes))
        .ok_or(CoverageError::UnknownFormat)?;
    let (report, sources) = match format {
        CoverageFormat::Cobertura => cobertura::read(bytes)?,
        CoverageFormat::Jacoco => (jacoco::read(bytes)?, Vec::new()),
        CoverageFormat::Lcov => (lcov::read(bytes)?, Vec::new()),
        CoverageFormat::Go => (go_profile::read(bytes)?, Vec::new()),
    };
    Ok(ReadCoverage {
        format,
        report,
        sources,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_apart_by_their_first_bytes() {
        let detect = |text: &str| CoverageFormat::detect(text.as_bytes());
        assert_eq!(
            detect("<?xml version=\"1.0\"?>\n<coverage>"),
            Some(CoverageFormat::Cobertura)
        );
        assert_eq!(
            detect(
                "<?xml version=\"1.0\"?><!DOCTYPE report PUBLIC \"x\" \"report.dtd\"><report name=\"a\">"
            ),
            Some(CoverageFormat::Jacoco)
        );
        assert_eq!(detect("mode: atomic\n"), Some(CoverageFormat::Go));
        assert_eq!(detect("TN:\nSF:a.py\n"), Some(CoverageFormat::Lcov));
        assert_eq!(detect("hello"), None);
        assert_eq!(
            parse_coverage(b"hello", None).unwrap_err(),
            CoverageError::UnknownFormat
        );
    }
}
