//! Coverage as a run reports it: totals, and per file the lines covered
//! and not, as ranges (`1-5,7`).

use serde::{Deserialize, Serialize};

/// Covered and total lines and branches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageTotals {
    pub lines_covered: u64,
    pub lines_total: u64,
    pub branches_covered: u64,
    pub branches_total: u64,
}

impl CoverageTotals {
    pub fn add(&mut self, other: CoverageTotals) {
        self.lines_covered += other.lines_covered;
        self.lines_total += other.lines_total;
        self.branches_covered += other.branches_covered;
        self.branches_total += other.branches_total;
    }

    /// Covered lines over executable lines, 0 to 1 (1 for no lines: nothing
    /// is left uncovered).
    pub fn line_rate(&self) -> f64 {
        rate(self.lines_covered, self.lines_total)
    }

    /// Taken branches over branches, when the report has branches.
    pub fn branch_rate(&self) -> Option<f64> {
        (self.branches_total > 0).then(|| rate(self.branches_covered, self.branches_total))
    }
}

fn rate(covered: u64, total: u64) -> f64 {
    if total == 0 {
        1.0
    } else {
        covered as f64 / total as f64
    }
}

/// One file of a coverage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageFile {
    /// Relative to the repository.
    pub path: String,
    pub totals: CoverageTotals,
    /// Executable lines that ran, as ranges.
    pub covered: String,
    /// Executable lines that never ran, as ranges.
    pub uncovered: String,
}

/// The coverage of a change: its added or modified executable lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffTotals {
    /// The commit the change is measured against (its merge base).
    pub base: String,
    pub covered: u64,
    pub total: u64,
}
