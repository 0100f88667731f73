//! The counts EnricoMi/publish-unit-test-result-action computes for a
//! report (its `stats`), reproduced so that Sluice's reading of a report
//! can be checked against the action's results (the conformance data in
//! `../shared/conformance/junit`). Its rules differ from Sluice's own in
//! places, on purpose kept here and only here:
//!
//! - runs come from the suites' count attributes, not from testcases; a
//!   suite missing one of `tests`, `skipped`, `failures`, `errors` or
//!   `time` has that one and those read after it recounted from its
//!   testcases (result elements counted, not cases), in that order;
//! - a test is its (class, name), its file ignored; over repeats, the
//!   worst of error, failure, success, skipped (in that order) wins;
//!   `flakyFailure` and friends are not results;
//! - a report without named testcases takes its tests from the suites.

use serde::{Deserialize, Serialize};

use super::reader::{RawCase, RawReport, RawSuite, ResultKind};
use crate::fast_hash::FxHashMap;

/// The action's `stats` for one readable report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceStats {
    pub suites: i64,
    pub duration: i64,
    pub tests: i64,
    pub tests_succ: i64,
    pub tests_skip: i64,
    pub tests_fail: i64,
    pub tests_error: i64,
    pub runs: i64,
    pub runs_succ: i64,
    pub runs_skip: i64,
    pub runs_fail: i64,
    pub runs_error: i64,
}

/// A suite's counts after the action's completion of missing attributes.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    tests: i64,
    skipped: i64,
    disabled: i64,
    failures: i64,
    errors: i64,
    time: f64,
}

pub(crate) fn stats(raw: &RawReport) -> ReferenceStats {
    let mut totals = Counts::default();
    for &root in &raw.roots {
        let counts = completed_counts(raw, &raw.suites[root]);
        totals.tests += counts.tests;
        if counts.skipped != 0 {
            totals.skipped += counts.skipped + counts.disabled;
        }
        totals.failures += counts.failures;
        totals.errors += counts.errors;
        totals.time += counts.time;
    }
    let mut stats = ReferenceStats {
        suites: raw.roots.iter().map(|&r| leaf_suites(raw, r)).sum(),
        duration: totals.time.trunc() as i64,
        runs: totals.tests,
        runs_skip: totals.skipped,
        runs_fail: totals.failures,
        runs_error: totals.errors,
        runs_succ: totals.tests - totals.skipped - totals.failures - totals.errors,
        ..ReferenceStats::default()
    };
    let tests = distinct_tests(raw);
    if tests.is_empty() {
        stats.tests = stats.runs;
        stats.tests_skip = stats.runs_skip;
        stats.tests_fail = stats.runs_fail;
        stats.tests_error = stats.runs_error;
        stats.tests_succ = stats.runs_succ;
    } else {
        stats.tests = tests.len() as i64;
        for outcome in tests.values() {
            match outcome {
                Plain::Error => stats.tests_error += 1,
                Plain::Failure => stats.tests_fail += 1,
                Plain::Skipped => stats.tests_skip += 1,
                Plain::Success => {}
            }
        }
        stats.tests_succ = stats.tests - stats.tests_skip - stats.tests_fail - stats.tests_error;
    }
    stats
}

/// Counts of one top-level suite: its attributes, with what is missing
/// (and everything read after it) recounted from the testcases under it.
fn completed_counts(raw: &RawReport, suite: &RawSuite) -> Counts {
    let attrs = &suite.attrs;
    let recount = || recount(raw, suite);
    let int = |value: &Option<String>| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(0)
    };
    let float = |value: &Option<String>| {
        value
            .as_deref()
            .filter(|v| !v.is_empty())
            .and_then(|v| v.replace(',', "").trim().parse::<f64>().ok())
            .filter(|v| v.is_finite())
            .unwrap_or(0.0)
    };
    // The order the action reads them in: a missing one rewrites itself
    // and every one read after it.
    let present = [
        attrs.tests.is_some(),
        attrs.skipped.is_some(),
        attrs.failures.is_some(),
        attrs.errors.is_some(),
        attrs.time.is_some(),
    ];
    let first_missing = present.iter().position(|p| !p).unwrap_or(present.len());
    let counted = (first_missing < present.len()).then(recount);
    let pick = |position: usize, written: i64, counted_value: fn(&Counts) -> i64| match &counted {
        Some(counts) if position >= first_missing => counted_value(counts),
        _ => written,
    };
    Counts {
        tests: pick(0, int(&attrs.tests), |c| c.tests),
        skipped: pick(1, int(&attrs.skipped), |c| c.skipped),
        disabled: attrs
            .disabled
            .as_deref()
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0),
        failures: pick(2, int(&attrs.failures), |c| c.failures),
        errors: pick(3, int(&attrs.errors), |c| c.errors),
        time: match &counted {
            Some(counts) if first_missing <= 4 => counts.time,
            _ => float(&attrs.time),
        },
    }
}

/// The counts of a suite rebuilt from every testcase under it: result
/// elements, not cases, and case times summed (to the millisecond).
fn recount(raw: &RawReport, suite: &RawSuite) -> Counts {
    let mut counts = Counts::default();
    let mut time = 0.0;
    for case in cases_under(raw, suite) {
        counts.tests += 1;
        time += case
            .time
            .as_deref()
            .filter(|t| !t.is_empty())
            .and_then(|t| t.replace(',', "").trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        for result in &case.results {
            match result.kind {
                ResultKind::Failure => counts.failures += 1,
                ResultKind::Error => counts.errors += 1,
                ResultKind::Skipped => counts.skipped += 1,
                _ => {}
            }
        }
    }
    counts.time = (time * 1000.0).round() / 1000.0;
    counts
}

fn cases_under<'r>(raw: &'r RawReport, suite: &'r RawSuite) -> Vec<&'r RawCase> {
    let mut cases: Vec<&RawCase> = suite.cases.iter().map(|&c| &raw.cases[c]).collect();
    for &child in &suite.children {
        cases.extend(cases_under(raw, &raw.suites[child]));
    }
    cases
}

/// Suites with testcases of their own, or no child suites.
fn leaf_suites(raw: &RawReport, suite: usize) -> i64 {
    let node = &raw.suites[suite];
    let own = i64::from(!node.cases.is_empty() || node.children.is_empty());
    own + node
        .children
        .iter()
        .map(|&child| leaf_suites(raw, child))
        .sum::<i64>()
}

/// The action's outcome of a run, ordered as it merges repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Plain {
    Skipped,
    Success,
    Failure,
    Error,
}

fn plain_outcome(case: &RawCase) -> Plain {
    let has = |kind: ResultKind| case.results.iter().any(|r| r.kind == kind);
    if has(ResultKind::Error) {
        Plain::Error
    } else if has(ResultKind::Failure) {
        Plain::Failure
    } else if has(ResultKind::Skipped) || case.status.as_deref() == Some("disabled") {
        Plain::Skipped
    } else {
        Plain::Success
    }
}

/// Tests by (class, name), for cases with either; worst run wins.
fn distinct_tests(raw: &RawReport) -> FxHashMap<(Option<&str>, Option<&str>), Plain> {
    let mut tests: FxHashMap<(Option<&str>, Option<&str>), Plain> = FxHashMap::default();
    for &root in &raw.roots {
        for case in cases_under(raw, &raw.suites[root]) {
            if case.classname.is_none() && case.name.is_none() {
                continue;
            }
            let key = (case.classname.as_deref(), case.name.as_deref());
            let outcome = plain_outcome(case);
            tests
                .entry(key)
                .and_modify(|worst| *worst = (*worst).max(outcome))
                .or_insert(outcome);
        }
    }
    tests
}
