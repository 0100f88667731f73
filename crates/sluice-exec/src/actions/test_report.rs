//! The test-report actions teams already use, run natively: they read
//! JUnit reports an earlier step wrote, and here that means the run's
//! test history, annotations and step summary (no check run or comment
//! on a web page). Each keeps its own inputs, defaults and outputs.
//!
//! - `dorny/test-reporter`: `path` (comma-separated globs), `reporter`
//!   (the JUnit ones: `java-junit`, `jest-junit`, `swift-xunit`),
//!   `fail-on-error` (default true), `fail-on-empty` (default true);
//!   outputs `conclusion`, `passed`, `failed`, `skipped`, `time`.
//! - `EnricoMi/publish-unit-test-result-action`: `files` or `junit_files`
//!   (globs, one a line), `fail_on` (`test failures` (default), `errors`,
//!   `nothing`), `action_fail` (default false: only the conclusion says
//!   it failed); output `json`.
//! - `mikepenz/action-junit-report`: `report_paths` (default
//!   `**/junit-reports/TEST-*.xml`, comma- or line-separated),
//!   `fail_on_failure` (default false), `require_tests` (default false);
//!   outputs `total`, `passed`, `skipped`, `failed`.

use indexmap::IndexMap;
use serde_json::json;

use crate::events::Outcome;
use crate::step::{StepContext, StepResult};
use crate::test_reports::{self, ReportsRead};

/// The reporters of `dorny/test-reporter` that write JUnit XML.
const JUNIT_REPORTERS: [&str; 3] = ["java-junit", "jest-junit", "swift-xunit"];

pub(crate) fn dorny(ctx: &StepContext, inputs: &IndexMap<String, String>) -> StepResult {
    let reporter = input(inputs, "reporter", "java-junit");
    if !JUNIT_REPORTERS.contains(&reporter.as_str()) {
        return StepResult::error(
            ctx,
            &format!(
                "dorny/test-reporter: reporter `{reporter}` is not run natively (Sluice reads JUnit XML: {}); vendor the action to use it",
                JUNIT_REPORTERS.join(", ")
            ),
        );
    }
    let globs = split(&input(inputs, "path", ""), &[',']);
    let read = test_reports::read(ctx, &globs, 1, None);
    let failed = read.totals.failed + read.totals.errors;
    let fail_on_error = flag(inputs, "fail-on-error", true);
    let fail_on_empty = flag(inputs, "fail-on-empty", true);
    let conclusion = if failed > 0 { "failure" } else { "success" };
    let mut result = verdict(
        ctx,
        (fail_on_error && failed > 0) || (fail_on_empty && read.files == 0),
        &read,
    );
    let outputs = [
        ("conclusion", conclusion.to_string()),
        ("passed", read.totals.passed.to_string()),
        ("failed", failed.to_string()),
        ("skipped", read.totals.skipped.to_string()),
        (
            "time",
            ((read.totals.time * 1000.0).round() as u64).to_string(),
        ),
        ("url", String::new()),
        ("url_html", String::new()),
    ];
    set_outputs(&mut result, &outputs);
    result
}

pub(crate) fn publish_unit_test_result(
    ctx: &StepContext,
    inputs: &IndexMap<String, String>,
) -> StepResult {
    let written = inputs
        .get("files")
        .or_else(|| inputs.get("junit_files"))
        .cloned()
        .unwrap_or_default();
    let globs = split(&written, &['\n']);
    let read = test_reports::read(ctx, &globs, 1, None);
    let totals = read.totals;
    let failing = match input(inputs, "fail_on", "test failures").as_str() {
        "nothing" => false,
        "errors" => totals.errors > 0 || read.unreadable > 0,
        _ => totals.failed + totals.errors > 0 || read.unreadable > 0,
    };
    let conclusion = if failing { "failure" } else { "success" };
    let mut result = verdict(ctx, failing && flag(inputs, "action_fail", false), &read);
    let stats = json!({
        "conclusion": conclusion,
        "stats": {
            "files": read.files,
            "errors": read.unreadable,
            "tests": totals.tests,
            "tests_succ": totals.passed + totals.flaky,
            "tests_skip": totals.skipped,
            "tests_fail": totals.failed,
            "tests_error": totals.errors,
            "duration": totals.time as u64,
        },
    });
    set_outputs(&mut result, &[("json", stats.to_string())]);
    result
}

pub(crate) fn action_junit_report(
    ctx: &StepContext,
    inputs: &IndexMap<String, String>,
) -> StepResult {
    let globs = split(
        &input(inputs, "report_paths", "**/junit-reports/TEST-*.xml"),
        &[',', '\n'],
    );
    let read = test_reports::read(ctx, &globs, 1, None);
    let totals = read.totals;
    let failed = totals.failed + totals.errors;
    let failing = (flag(inputs, "fail_on_failure", false) && failed > 0)
        || (flag(inputs, "require_tests", false) && totals.tests == 0);
    let mut result = verdict(ctx, failing, &read);
    let outputs = [
        ("total", totals.tests.to_string()),
        ("passed", (totals.passed + totals.flaky).to_string()),
        ("skipped", totals.skipped.to_string()),
        ("failed", failed.to_string()),
    ];
    set_outputs(&mut result, &outputs);
    result
}

/// The step's result: a failure explained in its log when `failing`.
fn verdict(ctx: &StepContext, failing: bool, read: &ReportsRead) -> StepResult {
    if !failing {
        return StepResult::outcome(Outcome::Success);
    }
    let message = if read.files == 0 {
        "no test report matched".to_string()
    } else {
        format!(
            "{} of {} tests failed",
            read.totals.failed + read.totals.errors,
            read.totals.tests
        )
    };
    StepResult::error(ctx, &message)
}

fn set_outputs(result: &mut StepResult, outputs: &[(&str, String)]) {
    for (name, value) in outputs {
        result.outputs.insert((*name).to_string(), value.clone());
    }
}

fn input(inputs: &IndexMap<String, String>, name: &str, default: &str) -> String {
    inputs
        .get(name)
        .filter(|v| !v.trim().is_empty())
        .map_or_else(|| default.to_string(), |v| v.trim().to_string())
}

/// A boolean input: `true` (any case) is true, empty or absent is `default`.
pub(super) fn flag(inputs: &IndexMap<String, String>, name: &str, default: bool) -> bool {
    inputs
        .get(name)
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map_or(default, |v| v.eq_ignore_ascii_case("true"))
}

/// Globs written in one input, split at `separators`.
fn split(text: &str, separators: &[char]) -> Vec<String> {
    text.split(separators)
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_owned)
        .collect()
}
