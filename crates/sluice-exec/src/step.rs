//! Running one step: its condition, its env and limits, then the work
//! itself (a script, or an action Sluice runs natively), and its record.

use std::time::{Duration, Instant};

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_workflow::{Job, Step, StepAction};

use crate::eval_host::{RunHost, Status};
use crate::events::CancelLevel;
use crate::events::{Event, JobKey, LogLevel, Outcome, now};
use crate::job::{JobState, evaluate_env, minutes};
use crate::run_spec::Shared;

/// How long a step that starts after its job timed out may run (GitHub's
/// default `cancel-timeout-minutes`).
const AFTER_TIMEOUT_WINDOW: Duration = Duration::from_secs(5 * 60);

pub(crate) struct StepContext<'a> {
    pub shared: &'a Shared<'a>,
    pub key: &'a JobKey,
    pub job: &'a Job,
    /// The workflow the job is written in (for `defaults`).
    pub workflow: &'a sluice_workflow::Workflow,
    pub step: &'a Step,
    pub index: usize,
    pub cancel_level: &'a dyn Fn() -> CancelLevel,
    /// The job ran out of time before this step: only `always()` steps run.
    pub job_timed_out: bool,
    /// Step-cache keys of the cached steps of the jobs this job needs, by
    /// job id: part of each cached step's key, so upstream changes reach it.
    pub upstream_keys: &'a IndexMap<JobKey, Vec<String>>,
    /// The job's workspace (its snapshot, or the repository in place).
    pub workspace: &'a std::path::Path,
    /// Set for the steps of a composite action: they log under the step
    /// that uses the action and are not steps of the job themselves.
    pub nested: Option<&'a Nested>,
}

/// Where a composite action's inner step runs.
#[derive(Debug, Clone)]
pub(crate) struct Nested {
    /// The action's directory (`github.action_path`, `GITHUB_ACTION_PATH`).
    pub action_path: std::path::PathBuf,
    /// The action's metadata file, for messages.
    pub file: String,
    /// How many actions deep this step is (1 for a composite's own steps).
    pub depth: usize,
}

/// A finished (or skipped) step, as the `steps` context shows it.
#[derive(Debug, Clone)]
pub(crate) struct StepRecord {
    pub outcome: Outcome,
    pub conclusion: Outcome,
    pub outputs: IndexMap<String, String>,
    /// The step hit the job's deadline.
    pub timed_out_job: bool,
    /// The step-cache key, for steps with `cache:`.
    pub cache_key: Option<String>,
    /// Whether it came from the step cache.
    pub cached: bool,
}

impl StepRecord {
    fn skipped() -> Self {
        StepRecord {
            outcome: Outcome::Skipped,
            conclusion: Outcome::Skipped,
            outputs: IndexMap::new(),
            timed_out_job: false,
            cache_key: None,
            cached: false,
        }
    }

    pub fn context_value(&self) -> Value {
        let mut map = IndexMap::new();
        let outputs = self
            .outputs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        map.insert("outputs".to_string(), Value::Object(outputs));
        map.insert(
            "outcome".to_string(),
            Value::String(self.outcome.as_str().into()),
        );
        map.insert(
            "conclusion".to_string(),
            Value::String(self.conclusion.as_str().into()),
        );
        Value::Object(map)
    }
}

/// The time a step may take.
pub(crate) struct StepLimits {
    pub started: Instant,
    pub step_timeout: Option<Duration>,
    /// When the step must stop: its own timeout or the job's.
    pub deadline: Instant,
    /// The job's deadline (or the window after it, for cleanups).
    pub job_deadline: Instant,
}

impl StepLimits {
    /// Whether running into `deadline` means the job, not the step, timed out.
    pub fn job_deadline_first(&self) -> bool {
        self.step_timeout
            .is_none_or(|t| self.job_deadline <= self.started + t)
    }
}

/// What the step's work produced, before `continue-on-error`.
#[derive(Debug, Clone)]
pub(crate) struct StepResult {
    pub outcome: Outcome,
    pub exit_code: Option<i32>,
    pub outputs: IndexMap<String, String>,
    pub timed_out_job: bool,
    pub cached: bool,
    pub cache_key: Option<String>,
}

impl StepResult {
    pub fn outcome(outcome: Outcome) -> Self {
        StepResult {
            outcome,
            exit_code: None,
            outputs: IndexMap::new(),
            timed_out_job: false,
            cached: false,
            cache_key: None,
        }
    }

    /// A failure explained by an `error:` line in the step's log.
    pub fn error(ctx: &StepContext, message: &str) -> Self {
        ctx.shared
            .system_message(ctx.key, Some(ctx.index), LogLevel::Error, message);
        StepResult::outcome(Outcome::Failure)
    }
}

pub(crate) fn run_step(ctx: &StepContext, state: &mut JobState) -> StepRecord {
    let shared = ctx.shared;
    let cancelled = (ctx.cancel_level)() != CancelLevel::None || ctx.job_timed_out;
    let status = Status::Step {
        failed: state.failed,
        cancelled,
    };

    // The step's env: the job's, with GITHUB_ENV on top (GitHub keeps both
    // in one table), then the step's own (which may use env).
    let mut env = state.job_env.clone();
    for (k, v) in &state.exported_env {
        env.insert(k.clone(), v.clone());
    }
    state
        .contexts
        .insert("env".into(), crate::eval_host::string_object(&env));
    let host = RunHost {
        contexts: &state.contexts,
        status: status.clone(),
        workspace: ctx.workspace,
    };
    let name = display_name(&host, ctx.step);
    let started = Instant::now();
    let run = host.condition(&ctx.step.condition.expression);
    if run == Ok(false) {
        return StepRecord::skipped();
    }
    match ctx.nested {
        None => shared.emit(Event::StepStarted {
            job: ctx.key.clone(),
            step: ctx.index,
            step_id: ctx.step.id.clone(),
            name: shared.mask(&name),
            at: now(),
        }),
        Some(nested) => shared.system_line(
            ctx.key,
            Some(ctx.index),
            &format!("▷ {name} ({}:{})", nested.file, ctx.step.span.line),
        ),
    }
    if let Err(message) = run {
        let result = StepResult::error(ctx, &format!("if: {message}"));
        return finish(ctx, result, false, started);
    }
    if let Some(token) = &ctx.step.env {
        match evaluate_env(&host, token) {
            Ok(values) => env.extend(values),
            Err(message) => {
                return finish(
                    ctx,
                    StepResult::error(ctx, &format!("env: {message}")),
                    false,
                    started,
                );
            }
        }
    }
    state
        .contexts
        .insert("env".into(), crate::eval_host::string_object(&env));
    let host = RunHost {
        contexts: &state.contexts,
        status,
        workspace: ctx.workspace,
    };
    let continue_on_error = match ctx
        .step
        .continue_on_error
        .as_ref()
        .map(|t| host.evaluate(t))
    {
        None => false,
        Some(Ok(v)) => v.to_boolean(),
        Some(Err(message)) => {
            let result = StepResult::error(ctx, &format!("continue-on-error: {message}"));
            return finish(ctx, result, false, started);
        }
    };
    let step_timeout = match ctx.step.timeout_minutes.as_ref().map(|t| host.evaluate(t)) {
        None => None,
        Some(Ok(v)) => minutes(&v),
        Some(Err(message)) => {
            let result = StepResult::error(ctx, &format!("timeout-minutes: {message}"));
            return finish(ctx, result, continue_on_error, started);
        }
    };
    // Steps that run after the job's time is up (`if: always()` cleanups)
    // get GitHub's cancel window instead of dying at once.
    let job_deadline = if state.deadline <= started {
        started + AFTER_TIMEOUT_WINDOW
    } else {
        state.deadline
    };
    let limits = StepLimits {
        started,
        step_timeout,
        deadline: step_timeout.map_or(job_deadline, |t| (started + t).min(job_deadline)),
        job_deadline,
    };
    let result = match &ctx.step.action {
        StepAction::Run {
            script,
            shell,
            working_directory,
            background,
        } => {
            if *background {
                StepResult::error(
                    ctx,
                    "background steps (`background: true`) are not supported by this version of Sluice yet",
                )
            } else {
                let host = RunHost {
                    contexts: &state.contexts.clone(),
                    status: host.status.clone(),
                    workspace: ctx.workspace,
                };
                crate::step_attempts::run(
                    ctx,
                    state,
                    &host,
                    &env,
                    &limits,
                    &crate::script_step::RunStep {
                        script,
                        shell: shell.as_ref(),
                        working_directory: working_directory.as_ref(),
                    },
                )
            }
        }
        StepAction::Uses { uses, with, .. } => {
            let contexts = state.contexts.clone();
            let host = RunHost {
                contexts: &contexts,
                status: host.status.clone(),
                workspace: ctx.workspace,
            };
            crate::actions::run(ctx, state, &host, &env, &limits, &uses.value, with)
        }
        StepAction::Wait(_) | StepAction::WaitAll | StepAction::Cancel(_) => StepResult::error(
            ctx,
            "`wait`, `wait-all` and `cancel` steps are not supported by this version of Sluice yet",
        ),
    };
    finish(ctx, result, continue_on_error, started)
}

fn finish(
    ctx: &StepContext,
    result: StepResult,
    continue_on_error: bool,
    started: Instant,
) -> StepRecord {
    let outcome = result.outcome;
    let conclusion = if outcome == Outcome::Failure && continue_on_error {
        Outcome::Success
    } else {
        outcome
    };
    if ctx.nested.is_none() {
        ctx.shared.emit(Event::StepFinished {
            job: ctx.key.clone(),
            step: ctx.index,
            outcome,
            conclusion,
            exit_code: result.exit_code,
            duration_ms: started.elapsed().as_millis() as u64,
            cached: result.cached,
            at: now(),
        });
    }
    StepRecord {
        outcome,
        conclusion,
        outputs: result.outputs,
        timed_out_job: result.timed_out_job,
        cache_key: result.cache_key,
        cached: result.cached,
    }
}

/// The step's name as shown: `name:` evaluated, else GitHub's default.
pub(crate) fn display_name(host: &RunHost, step: &Step) -> String {
    if let Some(token) = &step.name
        && let Ok(name) = host.string(token)
    {
        return name;
    }
    match &step.action {
        StepAction::Run { script, .. } => {
            let text = host.string(script).unwrap_or_default();
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            format!("Run {}", first.trim())
        }
        StepAction::Uses { uses, .. } => format!("Run {}", uses.value),
        _ => sluice_plan::plan::step_display_name(step),
    }
}
