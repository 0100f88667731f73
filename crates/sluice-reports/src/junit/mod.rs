//! JUnit XML, in the dialects runners write: Ant/JUnit, Maven Surefire
//! (`flakyFailure`, `rerunFailure`), pytest (xunit1/xunit2), jest-junit,
//! mocha, go-junit-report and gotestsum, nextest, PHPUnit (nested
//! suites), bazel, Catch2 and TST (`status`), CUnit. What they share is
//! read; what they add is tolerated.

mod combine;

mod merge;
mod reader;
mod reference;
mod time;

pub use crate::report_error::ReportError;
pub use combine::combine;
pub use reader::{MAX_CASES, MAX_DEPTH, MAX_DETAILS_BYTES, MAX_REPORT_BYTES};
pub use reference::ReferenceStats;
pub use sluice_events::{TestCase, TestOutcome, Totals};

/// A report, read.
#[derive(Debug, Clone)]
pub struct JunitReport {
    /// One entry per test, in the order first seen.
    pub cases: Vec<TestCase>,
    /// Testcase elements (a test repeated by a runner's retries counts
    /// once per repeat).
    pub runs: u64,
    /// Counts the suites declare, for a report without testcases.
    declared: Option<Totals>,
    /// What was odd but readable (a time that had to be guessed).
    pub warnings: Vec<String>,
    reference: ReferenceStats,
}

impl JunitReport {
    /// The counts of the report's tests; a report that lists no testcase
    /// but declares counts on its suites (some runners write only those)
    /// gets the declared ones.
    pub fn totals(&self) -> Totals {
        match (&self.declared, self.cases.is_empty()) {
            (Some(declared), true) => *declared,
            _ => Totals::of(&self.cases),
        }
    }

    /// The counts EnricoMi/publish-unit-test-result-action computes for
    /// this report (see `reference.rs`): for checking agreement.
    pub fn reference_stats(&self) -> ReferenceStats {
        self.reference
    }
}

/// Reads a JUnit XML report.
pub fn parse_junit(bytes: &[u8]) -> Result<JunitReport, ReportError> {
    let raw = reader::read(bytes)?;
    let reference = reference::stats(&raw);
    let runs = raw.cases.len() as u64;
    let no_cases = raw.cases.is_empty();
    let (cases, warnings) = merge::tests_of(raw);
    let declared = (no_cases && reference.runs > 0).then(|| Totals {
        tests: reference.runs as u64,
        passed: reference.runs_succ.max(0) as u64,
        failed: reference.runs_fail as u64,
        errors: reference.runs_error as u64,
        skipped: reference.runs_skip as u64,
        flaky: 0,
        time: reference.duration as f64,
    });
    Ok(JunitReport {
        runs,
        cases,
        declared,
        warnings,
        reference,
    })
}
