//! `nick-fields/retry`, run natively: `command` run up to `max_attempts`
//! times, each attempt limited to `timeout_minutes`/`timeout_seconds`,
//! `retry_wait_seconds` (default 10) between them; `retry_on` (`any`,
//! `error`, `timeout`) says which failures are retried;
//! `new_command_on_retry` replaces the command on retries and
//! `on_retry_command` runs before each; `shell` as in `run:` steps.
//! Outputs `total_attempts`, `exit_code` and `exit_error`.

use std::time::{Duration, Instant};

use indexmap::IndexMap;
use sluice_workflow::Token;

use crate::eval_host::RunHost;
use crate::events::{CancelLevel, LogLevel, Outcome};
use crate::job::JobState;
use crate::script_step::RunStep;
use crate::step::{StepContext, StepLimits, StepResult};

pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    inputs: &IndexMap<String, String>,
) -> StepResult {
    let settings = match Settings::read(inputs) {
        Ok(settings) => settings,
        Err(problem) => return StepResult::error(ctx, &format!("nick-fields/retry: {problem}")),
    };
    let span = ctx.step.span;
    let shell = Token::string(settings.shell.clone(), span);
    let mut attempt = 1;
    loop {
        let command = match (&settings.new_command, attempt) {
            (Some(new_command), 2..) => new_command,
            _ => &settings.command,
        };
        let script = Token::string(command.clone(), span);
        let attempt_limits = StepLimits {
            started: Instant::now(),
            step_timeout: Some(settings.timeout),
            deadline: (Instant::now() + settings.timeout).min(limits.deadline),
            job_deadline: limits.job_deadline,
        };
        let step = RunStep {
            script: &script,
            shell: Some(&shell),
            working_directory: None,
        };
        let mut result = crate::script_step::run(ctx, state, host, env, &attempt_limits, &step);
        let timed_out = result.outcome == Outcome::Failure
            && result.exit_code.is_none()
            && Instant::now() >= attempt_limits.deadline;
        let retried = match settings.retry_on.as_str() {
            "timeout" => timed_out,
            "error" => !timed_out,
            _ => true,
        };
        let stopped = (ctx.cancel_level)() != CancelLevel::None || result.timed_out_job;
        if result.outcome != Outcome::Failure
            || attempt >= settings.max_attempts
            || !retried
            || stopped
        {
            finish(&mut result, attempt, timed_out);
            return result;
        }
        ctx.shared.system_message(
            ctx.key,
            Some(ctx.index),
            LogLevel::Warning,
            &format!(
                "attempt {attempt} of {} failed; retrying in {}s",
                settings.max_attempts,
                settings.wait.as_secs_f64()
            ),
        );
        if !wait(ctx, settings.wait, limits) {
            finish(&mut result, attempt, timed_out);
            return result;
        }
        if let Some(before) = &settings.on_retry_command {
            let before = Token::string(before.clone(), span);
            let step = RunStep {
                script: &before,
                shell: Some(&shell),
                working_directory: None,
            };
            let _ = crate::script_step::run(ctx, state, host, env, limits, &step);
        }
        attempt += 1;
    }
}

fn finish(result: &mut StepResult, attempts: u32, timed_out: bool) {
    result
        .outputs
        .insert("total_attempts".into(), attempts.to_string());
    result.outputs.insert(
        "exit_code".into(),
        result.exit_code.map_or_else(String::new, |c| c.to_string()),
    );
    let error = match (result.outcome, timed_out) {
        (Outcome::Failure, true) => "the final attempt timed out",
        (Outcome::Failure, false) => "the final attempt failed",
        _ => "",
    };
    result
        .outputs
        .insert("exit_error".into(), error.to_string());
}

fn wait(ctx: &StepContext, delay: Duration, limits: &StepLimits) -> bool {
    let until = Instant::now() + delay;
    while Instant::now() < until {
        if (ctx.cancel_level)() != CancelLevel::None || Instant::now() >= limits.deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
    true
}

/// The action's inputs, checked.
struct Settings {
    command: String,
    new_command: Option<String>,
    on_retry_command: Option<String>,
    max_attempts: u32,
    timeout: Duration,
    wait: Duration,
    retry_on: String,
    shell: String,
}

impl Settings {
    fn read(inputs: &IndexMap<String, String>) -> Result<Settings, String> {
        let text = |name: &str| inputs.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let number = |name: &str| -> Result<Option<f64>, String> {
            text(name)
                .map(|v| {
                    v.parse::<f64>()
                        .ok()
                        .filter(|n| n.is_finite() && *n >= 0.0)
                        .ok_or_else(|| format!("{name} `{v}` is not a number"))
                })
                .transpose()
        };
        let command = text("command").ok_or("`command` is required")?.to_string();
        let max_attempts = number("max_attempts")?.ok_or("`max_attempts` is required")?;
        if !(1.0..=100.0).contains(&max_attempts) {
            return Err("`max_attempts` must be from 1 to 100".into());
        }
        let timeout_seconds = match (number("timeout_seconds")?, number("timeout_minutes")?) {
            (Some(seconds), _) => seconds,
            (None, Some(minutes)) => minutes * 60.0,
            (None, None) => return Err("`timeout_minutes` or `timeout_seconds` is required".into()),
        };
        let retry_on = text("retry_on").unwrap_or("any").to_string();
        if !matches!(retry_on.as_str(), "any" | "error" | "timeout") {
            return Err(format!("retry_on `{retry_on}`: use any, error or timeout"));
        }
        Ok(Settings {
            command,
            new_command: text("new_command_on_retry").map(str::to_owned),
            on_retry_command: text("on_retry_command").map(str::to_owned),
            max_attempts: max_attempts as u32,
            timeout: Duration::from_secs_f64(timeout_seconds.min(360.0 * 60.0)),
            wait: Duration::from_secs_f64(
                number("retry_wait_seconds")?.unwrap_or(10.0).min(3600.0),
            ),
            retry_on,
            shell: text("shell").unwrap_or("bash").to_string(),
        })
    }
}
