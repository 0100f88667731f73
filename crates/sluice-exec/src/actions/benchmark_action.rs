//! `benchmark-action/github-action-benchmark`, run natively: its results
//! go to the run's history and are judged against the default branch's
//! (nothing is pushed to a gh-pages branch or commented anywhere). Its
//! inputs keep their meaning: `tool` (the format), `output-file-path`,
//! `alert-threshold` (default `200%`: a result at twice the baseline
//! alerts, as a warning), `fail-on-alert` (default false) and
//! `fail-threshold` (default: `alert-threshold`) — a regression past it
//! fails the step when `fail-on-alert` is true. The thresholds are the
//! sizes of Sluice's verdicts; whether a change is real is still decided
//! statistically against the history.

use indexmap::IndexMap;
use sluice_reports::perf::PerfFormat;

use crate::events::Outcome;
use crate::perf_reports::{self, BenchRequest};
use crate::step::{StepContext, StepResult};

pub(crate) fn run(ctx: &StepContext, inputs: &IndexMap<String, String>) -> StepResult {
    let tool = inputs.get("tool").map(|t| t.trim()).unwrap_or("");
    let format = match PerfFormat::named(tool) {
        Ok(format) => format,
        Err(problem) => {
            return StepResult::error(
                ctx,
                &format!("benchmark-action/github-action-benchmark: tool: {problem}"),
            );
        }
    };
    let Some(path) = inputs
        .get("output-file-path")
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
    else {
        return StepResult::error(
            ctx,
            "benchmark-action/github-action-benchmark: output-file-path is required",
        );
    };
    let threshold = |name: &str, default: &str| -> Result<f64, BadThreshold> {
        let written = inputs
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
            .unwrap_or(default);
        written
            .trim_end_matches('%')
            .parse::<f64>()
            .ok()
            .filter(|v| *v >= 100.0)
            .map(|v| v / 100.0 - 1.0)
            .ok_or_else(|| BadThreshold {
                input: name.to_string(),
                written: written.to_string(),
            })
    };
    let alert = match threshold("alert-threshold", "200%") {
        Ok(alert) => alert,
        Err(problem) => return StepResult::error(ctx, &problem.to_string()),
    };
    let fail = match threshold(
        "fail-threshold",
        inputs.get("alert-threshold").map_or("200%", |a| a.as_str()),
    ) {
        Ok(fail) => fail,
        Err(problem) => return StepResult::error(ctx, &problem.to_string()),
    };
    let fail_on_alert = inputs
        .get("fail-on-alert")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    let mut config = ctx.shared.spec.perf.config.clone();
    config.default.min_change = config.default.min_change.min(alert);
    config.default.warning = alert;
    // Without fail-on-alert nothing fails: no verdict is critical.
    config.default.critical = if fail_on_alert {
        fail.max(alert)
    } else {
        f64::INFINITY
    };
    config.benchmarks.clear();
    let request = BenchRequest {
        globs: vec![path.trim_start_matches("./").to_string()],
        format: Some(format),
        config: Some(config),
    };
    let read = perf_reports::read(ctx, &request, 1, None);
    if read.files == 0 {
        return StepResult::error(
            ctx,
            &format!("benchmark-action/github-action-benchmark: no file at {path}"),
        );
    }
    if read.unreadable > 0 {
        return StepResult::error(
            ctx,
            "benchmark-action/github-action-benchmark: the output file could not be read",
        );
    }
    StepResult::outcome(if read.critical().next().is_some() {
        Outcome::Failure
    } else {
        Outcome::Success
    })
}

/// A threshold input that is not a percentage of at least 100%.
#[derive(Debug, thiserror::Error)]
#[error("{input}: '{written}' is not a percentage of at least 100%")]
struct BadThreshold {
    input: String,
    written: String,
}
