//! Test results, as reports hold them and runs record them: a test's
//! identity, outcome, time and why it failed, and the counts of a set.

use serde::{Deserialize, Serialize};

/// How a test (or one run of it) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestOutcome {
    Passed,
    Skipped,
    /// Failed, then passed when run again (in one report or one run).
    Flaky,
    Failed,
    /// The test could not run to a verdict (an exception outside its
    /// assertions, a crash, a timeout).
    Error,
}

impl TestOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            TestOutcome::Passed => "passed",
            TestOutcome::Skipped => "skipped",
            TestOutcome::Flaky => "flaky",
            TestOutcome::Failed => "failed",
            TestOutcome::Error => "error",
        }
    }

    pub fn parse(text: &str) -> Option<TestOutcome> {
        Some(match text {
            "passed" => TestOutcome::Passed,
            "skipped" => TestOutcome::Skipped,
            "flaky" => TestOutcome::Flaky,
            "failed" => TestOutcome::Failed,
            "error" => TestOutcome::Error,
            _ => return None,
        })
    }

    /// Whether the outcome is a failure a step should fail for.
    pub fn is_failure(self) -> bool {
        matches!(self, TestOutcome::Failed | TestOutcome::Error)
    }
}

/// One test, as identified by its suite, class, name and file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestCase {
    pub suite: String,
    pub classname: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub outcome: TestOutcome,
    /// Seconds, over its runs in the report.
    pub time: f64,
    /// The first failure's (or skip's) message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The failure's text (its stack trace), cut to a bounded length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// How many times the report has it run (a runner's retries repeat it).
    pub runs: u32,
}

impl TestCase {
    /// The test's identity as people read it: `class ‑ name` (or the name).
    pub fn display_name(&self) -> String {
        if self.classname.is_empty() {
            self.name.clone()
        } else {
            format!("{} ‑ {}", self.classname, self.name)
        }
    }
}

/// The counts of a set of tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    pub tests: u64,
    pub passed: u64,
    pub failed: u64,
    pub errors: u64,
    pub skipped: u64,
    pub flaky: u64,
    /// Seconds.
    pub time: f64,
}

impl Totals {
    pub fn of(cases: &[TestCase]) -> Totals {
        let mut totals = Totals::default();
        for case in cases {
            totals.add(case.outcome, case.time);
        }
        totals
    }

    pub fn add(&mut self, outcome: TestOutcome, time: f64) {
        self.tests += 1;
        self.time += time;
        match outcome {
            TestOutcome::Passed => self.passed += 1,
            TestOutcome::Skipped => self.skipped += 1,
            TestOutcome::Flaky => self.flaky += 1,
            TestOutcome::Failed => self.failed += 1,
            TestOutcome::Error => self.errors += 1,
        }
    }
}
