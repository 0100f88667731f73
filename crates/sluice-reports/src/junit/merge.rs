//! From testcase elements to tests: one test per suite, class, name and
//! file; its runs in the report merged into one outcome.
//!
//! A run's outcome: an `<error>` makes it an error, else a `<failure>` a
//! failure, else `<skipped>` (or `status="disabled"`) a skip; Surefire's
//! `<flakyFailure>`/`<flakyError>` without a final failure mean it failed
//! and then passed on a re-run. Over a test's runs: flaky when it both
//! failed and passed, else its worst outcome (error, then failure, then
//! skipped, then passed).

use super::reader::{RawCase, RawReport, ResultKind};
use super::time::parse_seconds;
use crate::fast_hash::FxHashMap;
use sluice_events::{TestCase, TestOutcome};

/// The tests of a report, in the order first seen, and the warnings.
/// Takes the report: names move into the tests instead of being copied.
pub(crate) fn tests_of(raw: RawReport) -> (Vec<TestCase>, Vec<String>) {
    let owner = test_indices(&raw);
    let RawReport { suites, cases, .. } = raw;
    let mut tests: Vec<Option<TestCase>> = Vec::new();
    let mut failed_once: Vec<bool> = Vec::new();
    let mut passed_once: Vec<bool> = Vec::new();
    let mut warnings = Vec::new();
    for (case, at) in cases.into_iter().zip(owner) {
        let (time, warning) = parse_seconds(case.time.as_deref().unwrap_or(""));
        let outcome = run_outcome(&case);
        if at == tests.len() {
            tests.push(None);
            failed_once.push(false);
            passed_once.push(false);
        }
        failed_once[at] |= outcome.is_failure() || outcome == TestOutcome::Flaky;
        passed_once[at] |= matches!(outcome, TestOutcome::Passed | TestOutcome::Flaky);
        let (message, details) = explanation(&case);
        let test = tests[at].get_or_insert_with(|| TestCase {
            suite: suites[case.suite].name.clone(),
            classname: case.classname.unwrap_or_default(),
            name: case.name.unwrap_or_default(),
            file: case.file,
            line: case.line,
            outcome,
            time: 0.0,
            message: None,
            details: None,
            runs: 0,
        });
        if let Some(warning) = warning {
            warnings.push(format!(
                "{}: {warning}",
                display(&test.classname, &test.name)
            ));
        }
        test.runs += 1;
        test.time += time;
        test.outcome = test.outcome.max(outcome);
        if test.message.is_none() && test.details.is_none() {
            (test.message, test.details) = (message, details);
        }
    }
    let tests = tests
        .into_iter()
        .enumerate()
        .filter_map(|(at, test)| {
            let mut test = test?;
            if failed_once[at] && passed_once[at] {
                test.outcome = TestOutcome::Flaky;
            }
            Some(test)
        })
        .collect();
    (tests, warnings)
}

/// For each testcase element, the index of its test (tests numbered in
/// the order first seen), by suite, class, name and file.
fn test_indices(raw: &RawReport) -> Vec<usize> {
    let mut index: FxHashMap<(&str, &str, &str, Option<&str>), usize> = FxHashMap::default();
    raw.cases
        .iter()
        .map(|case| {
            let key = (
                raw.suites[case.suite].name.as_str(),
                case.classname.as_deref().unwrap_or(""),
                case.name.as_deref().unwrap_or(""),
                case.file.as_deref(),
            );
            let next = index.len();
            *index.entry(key).or_insert(next)
        })
        .collect()
}

/// The outcome of one testcase element.
pub(crate) fn run_outcome(case: &RawCase) -> TestOutcome {
    let has = |kinds: &[ResultKind]| case.results.iter().any(|r| kinds.contains(&r.kind));
    if has(&[ResultKind::Error]) {
        TestOutcome::Error
    } else if has(&[ResultKind::Failure]) {
        TestOutcome::Failed
    } else if has(&[ResultKind::FlakyFailure, ResultKind::FlakyError]) {
        TestOutcome::Flaky
    } else if has(&[ResultKind::Skipped]) || case.status.as_deref() == Some("disabled") {
        TestOutcome::Skipped
    } else {
        TestOutcome::Passed
    }
}

/// The message and text of the run's first failure-like result.
fn explanation(case: &RawCase) -> (Option<String>, Option<String>) {
    if case.results.is_empty() {
        return (None, None);
    }
    let wanted =
        |kind: ResultKind| !matches!(kind, ResultKind::RerunFailure | ResultKind::RerunError);
    case.results
        .iter()
        .find(|r| wanted(r.kind))
        .map(|r| {
            let text = r.text.trim();
            (
                r.message.clone().filter(|m| !m.is_empty()),
                (!text.is_empty()).then(|| text.to_owned()),
            )
        })
        .unwrap_or((None, None))
}

fn display(classname: &str, name: &str) -> String {
    if classname.is_empty() {
        name.to_owned()
    } else {
        format!("{classname}.{name}")
    }
}
