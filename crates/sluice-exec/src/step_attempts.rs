//! A `run:` step's attempts: `retry:` runs it again after a failure
//! (after `delay`), each attempt's log kept in the step's and its reports
//! read after each; with `rerun-failed`, a retry runs that command
//! instead, told the tests that failed (`$SLUICE_FAILED_TESTS`, one
//! `class::name` a line; `$SLUICE_FAILED_TEST_FILES`, their files). A
//! step whose failures are all quarantined tests passes, with a warning
//! naming them.

use std::time::{Duration, Instant, SystemTime};

use indexmap::IndexMap;
use sluice_reports::TestCase;
use sluice_reports::coverage::CoverageGate;
use sluice_reports::perf::PerfFormat;

use crate::coverage_reports::{self, CoverageRequest};
use crate::eval_host::RunHost;
use crate::events::{CancelLevel, LogLevel, Outcome};
use crate::job::JobState;
use crate::perf_reports::{self, BenchRequest};
use crate::script_step::RunStep;
use crate::step::{StepContext, StepLimits, StepResult};
use crate::test_reports::{self, ReportsRead};

pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    step: &RunStep,
) -> StepResult {
    let retry = ctx.step.retry.as_ref();
    let attempts = retry.map_or(1, |r| r.attempts);
    let globs: Option<Vec<String>> = ctx
        .step
        .reports
        .as_ref()
        .filter(|r| !r.junit.is_empty())
        .map(|r| r.junit.iter().map(|g| g.value.clone()).collect());
    let first_started = SystemTime::now();
    let mut failed: Vec<TestCase> = Vec::new();
    let mut attempt = 1;
    loop {
        let started = SystemTime::now();
        let rerun = retry
            .and_then(|r| r.rerun_failed.as_ref())
            .filter(|_| attempt > 1 && !failed.is_empty());
        let result = match rerun {
            Some(command) => {
                let mut env = env.clone();
                env.extend(failed_tests_env(&failed));
                let step = RunStep {
                    script: command,
                    ..*step
                };
                crate::script_step::run(ctx, state, host, &env, limits, &step)
            }
            None => crate::script_step::run(ctx, state, host, env, limits, step),
        };
        let reports = globs
            .as_ref()
            .map(|globs| test_reports::read(ctx, globs, attempt, Some(started)));
        let result = quarantine_verdict(ctx, result, reports.as_ref());
        let stopped = (ctx.cancel_level)() != CancelLevel::None || result.timed_out_job;
        if result.outcome != Outcome::Failure || attempt >= attempts || stopped {
            let result = with_coverage(ctx, result, attempt, first_started);
            return with_benchmarks(ctx, result, attempt, first_started);
        }
        failed = reports
            .map(|r| r.failures().cloned().collect())
            .unwrap_or_default();
        let delay = retry.map_or(0.0, |r| r.delay_seconds);
        ctx.shared.system_message(
            ctx.key,
            Some(ctx.index),
            LogLevel::Warning,
            &format!(
                "attempt {attempt} of {attempts} failed; attempt {} starts{}",
                attempt + 1,
                if delay > 0.0 {
                    format!(" in {delay}s")
                } else {
                    String::new()
                }
            ),
        );
        if !wait(ctx, Duration::from_secs_f64(delay), limits) {
            return result;
        }
        attempt += 1;
    }
}

/// The step's coverage reports, read once its attempts are over (any
/// attempt may have written them); a broken gate fails a step that
/// passed.
fn with_coverage(
    ctx: &StepContext,
    mut result: StepResult,
    attempt: u32,
    since: SystemTime,
) -> StepResult {
    let Some(reports) = ctx.step.reports.as_ref().filter(|r| !r.coverage.is_empty()) else {
        return result;
    };
    let gate = reports.coverage_gate.as_ref();
    let request = CoverageRequest {
        globs: reports.coverage.iter().map(|g| g.value.clone()).collect(),
        format: None,
        gate: CoverageGate {
            minimum: gate.and_then(|g| g.minimum),
            max_drop: gate.and_then(|g| g.max_drop),
            diff_minimum: gate.and_then(|g| g.diff_minimum),
        },
        base: gate.and_then(|g| g.base.clone()),
    };
    let read = coverage_reports::read(ctx, &request, attempt, Some(since));
    if read.files == 0 && result.outcome == Outcome::Success {
        ctx.shared.system_message(
            ctx.key,
            Some(ctx.index),
            LogLevel::Warning,
            "reports: no coverage report matched",
        );
    }
    if !read.failures.is_empty() && result.outcome == Outcome::Success {
        result.outcome = Outcome::Failure;
    }
    result
}

/// The step's benchmark results, read once its attempts are over; a
/// critical regression fails a step that passed.
fn with_benchmarks(
    ctx: &StepContext,
    mut result: StepResult,
    attempt: u32,
    since: SystemTime,
) -> StepResult {
    let Some(reports) = ctx
        .step
        .reports
        .as_ref()
        .filter(|r| !r.benchmarks.is_empty())
    else {
        return result;
    };
    let format = match reports
        .benchmark_format
        .as_ref()
        .map(|f| PerfFormat::named(&f.value))
    {
        None => None,
        Some(Ok(format)) => Some(format),
        Some(Err(problem)) => {
            return StepResult::error(ctx, &format!("benchmark-format: {problem}"));
        }
    };
    let request = BenchRequest {
        globs: reports.benchmarks.iter().map(|g| g.value.clone()).collect(),
        format,
        config: None,
    };
    let read = perf_reports::read(ctx, &request, attempt, Some(since));
    if read.files == 0 && result.outcome == Outcome::Success {
        ctx.shared.system_message(
            ctx.key,
            Some(ctx.index),
            LogLevel::Warning,
            "reports: no benchmark report matched",
        );
    }
    if read.critical().next().is_some() && result.outcome == Outcome::Success {
        result.outcome = Outcome::Failure;
    }
    result
}

/// Waits `delay` before a retry; false when the run was cancelled or the
/// step's time ran out meanwhile.
fn wait(ctx: &StepContext, delay: Duration, limits: &StepLimits) -> bool {
    let until = Instant::now() + delay;
    while Instant::now() < until {
        if (ctx.cancel_level)() != CancelLevel::None || Instant::now() >= limits.deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
    Instant::now() < limits.deadline
}

/// A failed step whose reports' failures are all quarantined passes.
fn quarantine_verdict(
    ctx: &StepContext,
    mut result: StepResult,
    reports: Option<&ReportsRead>,
) -> StepResult {
    let Some(reports) = reports else {
        return result;
    };
    if result.outcome != Outcome::Failure || result.timed_out_job {
        return result;
    }
    let failures: Vec<&TestCase> = reports.failures().collect();
    let quarantine = test_reports::quarantine(ctx);
    if failures.is_empty() || failures.iter().any(|f| quarantine.entry_for(f).is_none()) {
        return result;
    }
    let names: Vec<String> = failures.iter().map(|f| f.display_name()).collect();
    ctx.shared.system_message(
        ctx.key,
        Some(ctx.index),
        LogLevel::Warning,
        &ctx.shared.mask(&format!(
            "every failure is of a quarantined test ({}); the step passes",
            names.join(", ")
        )),
    );
    result.outcome = Outcome::Success;
    result
}

/// What a `rerun-failed` command is told.
fn failed_tests_env(failed: &[TestCase]) -> Vec<(String, String)> {
    let tests: Vec<String> = failed
        .iter()
        .map(|t| {
            if t.classname.is_empty() {
                t.name.clone()
            } else {
                format!("{}::{}", t.classname, t.name)
            }
        })
        .collect();
    let mut files: Vec<&str> = failed.iter().filter_map(|t| t.file.as_deref()).collect();
    files.sort_unstable();
    files.dedup();
    vec![
        ("SLUICE_FAILED_TESTS".to_string(), tests.join("\n")),
        ("SLUICE_FAILED_TEST_FILES".to_string(), files.join("\n")),
    ]
}
