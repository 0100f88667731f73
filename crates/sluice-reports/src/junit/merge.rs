//! From testcase elements to tests: one test per suite, class, name and
//! file; its runs in the report merged into one outcome.
//!
//! A run's outcome: an `<error>` makes it an error, else a `<failure>` a
//! failure, else `<skipped>` (or `status="disabled"`) a skip; Surefire's
//! `<flakyFailure>`/`<flakyError>` without a final failure mean it failed
//! and then passed on a re-run. Over a test's runs: flaky when it both
//! failed and passed, else its worst outcome (error, then failure, then
//! skipped, then passed).

use std::collections::HashMap;

use super::model::{TestCase, TestOutcome};
use super::reader::{RawCase, RawReport, ResultKind};
use super::time::parse_seconds;

/// The tests of a report, in the order first seen, and the warnings.
pub(crate) fn tests_of(raw: &RawReport) -> (Vec<TestCase>, Vec<String>) {
    let mut tests: Vec<TestCase> = Vec::new();
    let mut index: HashMap<(String, String, String, Option<String>), usize> = HashMap::new();
    let mut failed_once: Vec<bool> = Vec::new();
    let mut passed_once: Vec<bool> = Vec::new();
    let mut warnings = Vec::new();
    for case in &raw.cases {
        let suite = raw.suites[case.suite].name.clone();
        let classname = case.classname.clone().unwrap_or_default();
        let name = case.name.clone().unwrap_or_default();
        let (time, warning) = parse_seconds(case.time.as_deref().unwrap_or(""));
        if let Some(warning) = warning {
            warnings.push(format!("{}: {warning}", display(&classname, &name)));
        }
        let outcome = run_outcome(case);
        let key = (
            suite.clone(),
            classname.clone(),
            name.clone(),
            case.file.clone(),
        );
        let at = *index.entry(key).or_insert_with(|| {
            tests.push(TestCase {
                suite,
                classname,
                name,
                file: case.file.clone(),
                line: case.line,
                outcome,
                time: 0.0,
                message: None,
                details: None,
                runs: 0,
            });
            failed_once.push(false);
            passed_once.push(false);
            tests.len() - 1
        });
        let test = &mut tests[at];
        test.runs += 1;
        test.time += time;
        failed_once[at] |= outcome.is_failure() || outcome == TestOutcome::Flaky;
        passed_once[at] |= matches!(outcome, TestOutcome::Passed | TestOutcome::Flaky);
        test.outcome = test.outcome.max(outcome);
        if test.message.is_none() {
            (test.message, test.details) = explanation(case);
        }
    }
    for (at, test) in tests.iter_mut().enumerate() {
        if failed_once[at] && passed_once[at] {
            test.outcome = TestOutcome::Flaky;
        }
    }
    (tests, warnings)
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
