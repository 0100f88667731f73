//! Coverage as Sluice keeps it: per file, each executable line's hits and
//! each branching line's covered and total branches.

use std::collections::BTreeMap;

pub use sluice_events::CoverageTotals;

/// The largest line number taken from a report (a larger one is an error,
/// not an allocation).
pub const MAX_LINE: u32 = 10_000_000;

/// One source file's coverage.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileCoverage {
    /// Executable line → times executed.
    pub lines: BTreeMap<u32, u64>,
    /// Branching line → (branches taken, branches).
    pub branches: BTreeMap<u32, (u32, u32)>,
}

impl FileCoverage {
    /// Adds a line's hits (a line written twice, by two classes of one
    /// file or two shards, sums its hits).
    pub fn add_line(&mut self, line: u32, hits: u64) {
        let entry = self.lines.entry(line).or_insert(0);
        *entry = entry.saturating_add(hits);
    }

    /// Adds a line's branches; the same line seen again keeps the larger
    /// counts (shards each see every branch, some taken).
    pub fn add_branches(&mut self, line: u32, covered: u32, total: u32) {
        let entry = self.branches.entry(line).or_insert((0, 0));
        entry.0 = entry.0.max(covered.min(total));
        entry.1 = entry.1.max(total);
    }

    /// Adds one branch of a line, taken or not (LCOV lists branches one
    /// by one).
    pub fn add_branch_outcome(&mut self, line: u32, taken: bool) {
        let entry = self.branches.entry(line).or_insert((0, 0));
        entry.0 = entry.0.saturating_add(u32::from(taken));
        entry.1 = entry.1.saturating_add(1);
    }

    pub fn merge(&mut self, other: &FileCoverage) {
        for (line, hits) in &other.lines {
            self.add_line(*line, *hits);
        }
        for (line, (covered, total)) in &other.branches {
            self.add_branches(*line, *covered, *total);
        }
    }

    pub fn totals(&self) -> CoverageTotals {
        let mut totals = CoverageTotals {
            lines_total: self.lines.len() as u64,
            lines_covered: self.lines.values().filter(|h| **h > 0).count() as u64,
            ..CoverageTotals::default()
        };
        for (covered, total) in self.branches.values() {
            totals.branches_covered += u64::from(*covered);
            totals.branches_total += u64::from(*total);
        }
        totals
    }

    /// Whether `line` is executable and was executed (`None`: not executable).
    pub fn line_covered(&self, line: u32) -> Option<bool> {
        self.lines.get(&line).map(|hits| *hits > 0)
    }
}

/// A coverage report: files by their path (relative to the repository
/// once normalised).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageReport {
    pub files: BTreeMap<String, FileCoverage>,
}

impl CoverageReport {
    pub fn file_mut(&mut self, path: &str) -> &mut FileCoverage {
        if !self.files.contains_key(path) {
            self.files.insert(path.to_string(), FileCoverage::default());
        }
        self.files.get_mut(path).expect("inserted above")
    }

    /// Another report of the same code (another shard, another format)
    /// merged in.
    pub fn merge(&mut self, other: &CoverageReport) {
        for (path, file) in &other.files {
            self.file_mut(path).merge(file);
        }
    }

    pub fn totals(&self) -> CoverageTotals {
        let mut totals = CoverageTotals::default();
        for file in self.files.values() {
            totals.add(file.totals());
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_merge_hits_and_keep_the_most_branches() {
        let mut a = CoverageReport::default();
        a.file_mut("app.py").add_line(1, 1);
        a.file_mut("app.py").add_line(2, 0);
        a.file_mut("app.py").add_branches(2, 1, 2);
        let mut b = CoverageReport::default();
        b.file_mut("app.py").add_line(2, 3);
        b.file_mut("app.py").add_branches(2, 2, 2);
        b.file_mut("util.py").add_line(7, 0);
        a.merge(&b);
        let totals = a.totals();
        assert_eq!((totals.lines_covered, totals.lines_total), (2, 3));
        assert_eq!((totals.branches_covered, totals.branches_total), (2, 2));
        assert!((totals.line_rate() - 2.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn no_lines_is_full_coverage_and_no_branch_rate() {
        let totals = CoverageReport::default().totals();
        assert_eq!(totals.line_rate(), 1.0);
        assert_eq!(totals.branch_rate(), None);
    }
}
