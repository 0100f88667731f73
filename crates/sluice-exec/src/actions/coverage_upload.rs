//! The coverage-upload actions teams already use, run natively: the
//! reports they would upload go to the run's history instead (nothing is
//! sent anywhere), with the step summary and gates of `reports:
//! {coverage}`.
//!
//! - `codecov/codecov-action`: `files` (comma-separated; `file` in older
//!   versions), `directory` to search, `disable_search`,
//!   `fail_ci_if_error` (default false). Without files it searches the
//!   workspace for the reports Codecov finds (Cobertura, JaCoCo, LCOV, Go
//!   profiles by their usual names).
//! - `coverallsapp/github-action`: `file` or `path-to-lcov` (default
//!   `./coverage/lcov.info`), `format`, `fail-on-error` (default true).

use indexmap::IndexMap;
use sluice_reports::coverage::CoverageFormat;

use super::test_report::flag;
use crate::coverage_reports::{self, CoverageRead, CoverageRequest};
use crate::events::{LogLevel, Outcome};
use crate::step::{StepContext, StepResult};

/// What Codecov's uploader looks for when it is given no file.
const CODECOV_SEARCH: [&str; 7] = [
    "**/coverage.xml",
    "**/cobertura*.xml",
    "**/jacoco*.xml",
    "**/lcov.info",
    "**/*.lcov",
    "**/coverage.out",
    "!**/node_modules/**",
];

pub(crate) fn codecov(ctx: &StepContext, inputs: &IndexMap<String, String>) -> StepResult {
    let written = inputs
        .get("files")
        .or_else(|| inputs.get("file"))
        .map(String::as_str)
        .unwrap_or("");
    let mut globs: Vec<String> = written
        .split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(|g| g.trim_start_matches("./").to_string())
        .collect();
    let search = !flag(inputs, "disable_search", false);
    if globs.is_empty() && search {
        let directory = inputs
            .get("directory")
            .map(|d| d.trim().trim_start_matches("./").trim_end_matches('/'))
            .filter(|d| !d.is_empty() && *d != ".");
        globs = CODECOV_SEARCH
            .iter()
            .map(|pattern| match (directory, pattern.strip_prefix('!')) {
                (Some(dir), Some(negated)) => format!("!{dir}/{negated}"),
                (Some(dir), None) => format!("{dir}/{pattern}"),
                (None, _) => pattern.to_string(),
            })
            .collect();
    }
    let request = CoverageRequest {
        globs,
        ..CoverageRequest::default()
    };
    let read = coverage_reports::read(ctx, &request, 1, None);
    verdict(
        ctx,
        &read,
        flag(inputs, "fail_ci_if_error", false),
        "codecov/codecov-action",
    )
}

pub(crate) fn coveralls(ctx: &StepContext, inputs: &IndexMap<String, String>) -> StepResult {
    let file = inputs
        .get("file")
        .or_else(|| inputs.get("path-to-lcov"))
        .map(|f| f.trim())
        .filter(|f| !f.is_empty())
        .unwrap_or("./coverage/lcov.info");
    let format = inputs
        .get("format")
        .and_then(|f| CoverageFormat::named(f.trim()));
    let request = CoverageRequest {
        globs: vec![file.trim_start_matches("./").to_string()],
        format,
        ..CoverageRequest::default()
    };
    let read = coverage_reports::read(ctx, &request, 1, None);
    verdict(
        ctx,
        &read,
        flag(inputs, "fail-on-error", true),
        "coverallsapp/github-action",
    )
}

/// Nothing found or unreadable fails the step only when the action was
/// told to fail on errors; a broken gate always does.
fn verdict(
    ctx: &StepContext,
    read: &CoverageRead,
    fail_on_error: bool,
    action: &str,
) -> StepResult {
    if !read.failures.is_empty() {
        return StepResult::outcome(Outcome::Failure);
    }
    let problem = if read.files == 0 {
        Some("no coverage report found")
    } else if read.unreadable > 0 {
        Some("a coverage report could not be read")
    } else {
        None
    };
    match problem {
        Some(problem) if fail_on_error => StepResult::error(ctx, &format!("{action}: {problem}")),
        Some(problem) => {
            ctx.shared.system_message(
                ctx.key,
                Some(ctx.index),
                LogLevel::Warning,
                &format!("{action}: {problem}"),
            );
            StepResult::outcome(Outcome::Success)
        }
        None => StepResult::outcome(Outcome::Success),
    }
}
