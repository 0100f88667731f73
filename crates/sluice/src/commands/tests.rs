//! `sluice tests [RUN]` and `sluice tests history TEST`: test results
//! from the history. (`flaky` and `quarantine` have files of their own.)

use std::path::Path;

use anyhow::{Result, bail};
use sluice_reports::TestOutcome;
use sluice_store::TestResultRecord;

use crate::cli::{TestsArgs, TestsCommand};
use crate::exit::ExitStatus;
use crate::terminal_text::inert;

pub fn tests(cwd: &Path, args: &TestsArgs) -> Result<ExitStatus> {
    match &args.command {
        None => show_run(cwd, args.run.as_deref(), args.json),
        Some(TestsCommand::History { test, limit, json }) => history(cwd, test, *limit, *json),
        Some(TestsCommand::Flaky {
            days,
            quarantine,
            json,
        }) => super::flaky::flaky(cwd, *days, *quarantine, *json),
        Some(TestsCommand::Quarantine { command }) => super::quarantine::quarantine(cwd, command),
        Some(TestsCommand::Shard {
            total,
            index,
            by,
            queue,
            explain,
            items,
        }) => super::shard::shard(
            cwd,
            &super::shard::ShardRequest {
                total: *total,
                index: *index,
                by: *by,
                queue: *queue,
                explain: *explain,
                items,
            },
        ),
    }
}

/// The tests of one run, failures first.
fn show_run(cwd: &Path, run: Option<&str>, json: bool) -> Result<ExitStatus> {
    let history = super::history::open(cwd)?;
    let number = history.resolve_run(run.unwrap_or("last"))?;
    let mut results = history
        .store()
        .run_test_results(history.repository(), number)?;
    if json {
        crate::output::line(&serde_json::to_string_pretty(&results)?);
        return Ok(ExitStatus::Success);
    }
    if results.is_empty() {
        crate::output::line(&format!(
            "run #{number} recorded no test results (steps declare their reports with `reports: {{junit: [...]}}`)"
        ));
        return Ok(ExitStatus::Success);
    }
    results.sort_by_key(|r| (std::cmp::Reverse(r.outcome), r.attempt));
    let failing = results.iter().filter(|r| r.outcome.is_failure()).count();
    crate::output::line(&format!(
        "run #{number}: {} results, {failing} failing",
        results.len()
    ));
    for result in &results {
        crate::output::line(&inert(&line(result), false));
    }
    Ok(ExitStatus::Success)
}

/// One test's results, newest first.
fn history(cwd: &Path, test: &str, limit: usize, json: bool) -> Result<ExitStatus> {
    let history = super::history::open(cwd)?;
    let results = history
        .store()
        .test_history(history.repository(), test, limit.max(1))?;
    if json {
        crate::output::line(&serde_json::to_string_pretty(&results)?);
        return Ok(ExitStatus::Success);
    }
    if results.is_empty() {
        bail!("no results for `{test}` (name it as `class::name`, `class.name` or its name)");
    }
    for result in &results {
        let short = result.sha.get(..7).unwrap_or(&result.sha);
        let branch = result
            .git_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&result.git_ref);
        crate::output::line(&inert(
            &format!("#{:<5} {short} {branch:<16} {}", result.run, line(result)),
            false,
        ));
    }
    Ok(ExitStatus::Success)
}

fn line(result: &TestResultRecord) -> String {
    let attempt = if result.attempt > 1 {
        format!(" (attempt {})", result.attempt)
    } else {
        String::new()
    };
    let message = match (&result.message, result.outcome) {
        (Some(message), TestOutcome::Failed | TestOutcome::Error | TestOutcome::Flaky) => {
            format!(": {message}")
        }
        _ => String::new(),
    };
    format!(
        "  {:<7} {:>9.3}s  {}{attempt}{message}",
        result.outcome.as_str(),
        result.duration_ms as f64 / 1000.0,
        result.test.display_name()
    )
}
