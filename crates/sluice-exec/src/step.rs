//! Running one step: its condition, its evaluated inputs, the process, the
//! workflow commands it prints and the file commands it writes.

use std::path::PathBuf;
use std::time::Instant;

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_workflow::{Job, Step, StepAction};

use crate::cancel::CancelLevel;
use crate::eval_host::{RunHost, Status};
use crate::events::{AnnotationLevel, Event, JobKey, Outcome, Stream, now};
use crate::file_commands;
use crate::job::{JobState, evaluate_env, human_minutes, minutes};
use crate::run_spec::Shared;
use crate::runner_env::{self, CommandFiles, RunnerDirs};
use crate::shell::Shell;
use crate::step_process::{self, Ending, ProcessSpec};
use crate::workflow_commands::{self, CommandOptions, CommandParser, LineKind, WorkflowCommand};

/// How long a step that starts after its job timed out may run (GitHub's
/// default `cancel-timeout-minutes`).
const AFTER_TIMEOUT_WINDOW: std::time::Duration = std::time::Duration::from_secs(5 * 60);

/// GitHub's limit on one step's summary.
const MAX_SUMMARY_BYTES: usize = 1024 * 1024;

pub(crate) struct StepContext<'a> {
    pub shared: &'a Shared<'a>,
    pub key: &'a JobKey,
    pub job: &'a Job,
    pub step: &'a Step,
    pub index: usize,
    pub cancel_level: &'a dyn Fn() -> CancelLevel,
    /// The job ran out of time before this step: only `always()` steps run.
    pub job_timed_out: bool,
}

/// A finished (or skipped) step, as the `steps` context shows it.
#[derive(Debug, Clone)]
pub(crate) struct StepRecord {
    pub outcome: Outcome,
    pub conclusion: Outcome,
    pub outputs: IndexMap<String, String>,
    /// The step hit the job's deadline.
    pub timed_out_job: bool,
}

impl StepRecord {
    fn skipped() -> Self {
        StepRecord {
            outcome: Outcome::Skipped,
            conclusion: Outcome::Skipped,
            outputs: IndexMap::new(),
            timed_out_job: false,
        }
    }

    pub fn context_value(&self) -> Value {
        let mut map = IndexMap::new();
        map.insert(
            "outputs".to_string(),
            Value::Object(
                self.outputs
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
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

pub(crate) fn run_step(ctx: &StepContext, state: &mut JobState) -> StepRecord {
    let shared = ctx.shared;
    let spec = shared.spec;
    let cancelled = (ctx.cancel_level)() != CancelLevel::None || ctx.job_timed_out;
    let status = Status::Step {
        failed: state.failed,
        cancelled,
    };

    // The step's env: the job's, then the step's own (which may use env).
    let mut env = state.job_env.clone();
    for (k, v) in &state.exported_env {
        // GITHUB_ENV replaces workflow and job `env` (GitHub keeps both in
        // one table); the step's own `env` below still wins.
        env.insert(k.clone(), v.clone());
    }
    state
        .contexts
        .insert("env".into(), crate::eval_host::string_object(&env));
    let host = RunHost {
        contexts: &state.contexts,
        status: status.clone(),
        workspace: &spec.workspace,
    };
    let name = display_name(&host, ctx.step);
    let run = match host.condition(&ctx.step.condition.expression) {
        Ok(run) => run,
        Err(message) => {
            shared.emit(Event::StepStarted {
                job: ctx.key.clone(),
                step: ctx.index,
                step_id: ctx.step.id.clone(),
                name: shared.mask(&name),
                at: now(),
            });
            shared.system_line(ctx.key, Some(ctx.index), &format!("error: if: {message}"));
            return finish(
                ctx,
                Outcome::Failure,
                false,
                None,
                Instant::now(),
                IndexMap::new(),
                false,
            );
        }
    };
    if !run {
        return StepRecord::skipped();
    }
    shared.emit(Event::StepStarted {
        job: ctx.key.clone(),
        step: ctx.index,
        step_id: ctx.step.id.clone(),
        name: shared.mask(&name),
        at: now(),
    });
    let started = Instant::now();
    if let Some(token) = &ctx.step.env {
        match evaluate_env(&host, token) {
            Ok(values) => env.extend(values),
            Err(message) => {
                shared.system_line(ctx.key, Some(ctx.index), &format!("error: env: {message}"));
                return finish(
                    ctx,
                    Outcome::Failure,
                    false,
                    None,
                    started,
                    IndexMap::new(),
                    false,
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
        workspace: &spec.workspace,
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
            shared.system_line(
                ctx.key,
                Some(ctx.index),
                &format!("error: continue-on-error: {message}"),
            );
            return finish(
                ctx,
                Outcome::Failure,
                false,
                None,
                started,
                IndexMap::new(),
                false,
            );
        }
    };
    let step_timeout = match ctx.step.timeout_minutes.as_ref().map(|t| host.evaluate(t)) {
        None => None,
        Some(Ok(v)) => minutes(&v),
        Some(Err(message)) => {
            shared.system_line(
                ctx.key,
                Some(ctx.index),
                &format!("error: timeout-minutes: {message}"),
            );
            return finish(
                ctx,
                Outcome::Failure,
                continue_on_error,
                None,
                started,
                IndexMap::new(),
                false,
            );
        }
    };
    let prepared = match &ctx.step.action {
        StepAction::Run {
            script,
            shell,
            working_directory,
            background,
        } => {
            if *background {
                Err("background steps (`background: true`) are not supported by this version of Sluice yet".to_string())
            } else {
                prepare_run(
                    ctx,
                    state,
                    &host,
                    script,
                    shell.as_ref(),
                    working_directory.as_ref(),
                    &env,
                )
            }
        }
        StepAction::Uses { uses, .. } => Err(format!(
            "`uses: {}`: this version of Sluice cannot run actions yet; replace the step with a `run:` step",
            uses.value
        )),
        StepAction::Wait(_) | StepAction::WaitAll | StepAction::Cancel(_) => Err(
            "`wait`, `wait-all` and `cancel` steps are not supported by this version of Sluice yet"
                .to_string(),
        ),
    };
    let (process, files) = match prepared {
        Ok(prepared) => prepared,
        Err(message) => {
            shared.system_line(ctx.key, Some(ctx.index), &format!("error: {message}"));
            return finish(
                ctx,
                Outcome::Failure,
                continue_on_error,
                None,
                started,
                IndexMap::new(),
                false,
            );
        }
    };
    let step_deadline = step_timeout.map(|t| started + t);
    // Steps that run after the job's time is up (`if: always()` cleanups)
    // get GitHub's cancel window instead of dying at once.
    let job_deadline = if state.deadline <= started {
        started + AFTER_TIMEOUT_WINDOW
    } else {
        state.deadline
    };
    let deadline = match step_deadline {
        Some(d) => d.min(job_deadline),
        None => job_deadline,
    };
    let mut effects = Effects::default();
    let allow = |name: &str| {
        env.get(name)
            .or_else(|| process.env.iter().find(|(k, _)| k == name).map(|(_, v)| v))
            .is_some_and(|v| workflow_commands::allows_unsecure_commands(v))
    };
    let options = CommandOptions {
        echo: false,
        allow_unsecure_commands: allow("ACTIONS_ALLOW_UNSECURE_COMMANDS"),
        allow_unsecure_stop_tokens: allow("ACTIONS_ALLOW_UNSECURE_STOPCOMMAND_TOKENS"),
    };
    // GitHub reads workflow commands from both streams; each stream keeps
    // its own `stop-commands` state.
    let mut stdout_parser = CommandParser::with_options(options);
    let mut stderr_parser = CommandParser::with_options(options);
    let mut on_line = |stream: Stream, line: &str| {
        let parser = if stream == Stream::Stderr {
            &mut stderr_parser
        } else {
            &mut stdout_parser
        };
        handle_line(ctx, parser, stream, line, &mut effects);
    };
    // A step that starts after a graceful cancel (an `if: always()`
    // cleanup) runs normally; only a further escalation stops it.
    let level_at_start = (ctx.cancel_level)();
    if level_at_start == CancelLevel::Immediate {
        shared.system_line(
            ctx.key,
            Some(ctx.index),
            "the run was killed; the step did not start",
        );
        return finish(
            ctx,
            Outcome::Cancelled,
            false,
            None,
            started,
            IndexMap::new(),
            false,
        );
    }
    let escalation = || {
        let level = (ctx.cancel_level)();
        if level > level_at_start {
            level
        } else {
            CancelLevel::None
        }
    };
    let ending = step_process::run(
        &process,
        Some(deadline),
        &escalation,
        spec.grace,
        &mut on_line,
    );
    let ending = match ending {
        Ok(ending) => ending,
        Err(e) => {
            shared.system_line(
                ctx.key,
                Some(ctx.index),
                &format!("error: cannot start {}: {e}", process.program.display()),
            );
            return finish(
                ctx,
                Outcome::Failure,
                continue_on_error,
                None,
                started,
                effects.outputs,
                false,
            );
        }
    };
    let mut outputs = std::mem::take(&mut effects.outputs);
    for (name, value) in effects.env.drain(..) {
        state.exported_env.insert(name, value);
    }
    for dir in effects.path.drain(..) {
        state.added_path.insert(0, dir);
    }
    if apply_file_commands(ctx, state, &files, &mut outputs) {
        effects.failed = true;
    }
    let mut hit_job_deadline = false;
    let outcome = match ending {
        Ending::Exited(0) if effects.failed => Outcome::Failure,
        Ending::Exited(0) => Outcome::Success,
        Ending::Exited(code) => {
            shared.system_line(
                ctx.key,
                Some(ctx.index),
                &format!("error: process completed with exit code {code}"),
            );
            Outcome::Failure
        }
        Ending::Signalled(signal) => {
            shared.system_line(
                ctx.key,
                Some(ctx.index),
                &format!("error: process was killed by signal {signal}"),
            );
            Outcome::Failure
        }
        Ending::TimedOut => {
            let job_deadline_first = step_deadline.is_none_or(|d| state.deadline <= d);
            if job_deadline_first {
                hit_job_deadline = true;
                shared.system_line(
                    ctx.key,
                    Some(ctx.index),
                    "error: the job has timed out; the step was stopped",
                );
            } else {
                let limit = step_timeout.map(human_minutes).unwrap_or_default();
                shared.system_line(
                    ctx.key,
                    Some(ctx.index),
                    &format!("error: the step has timed out after {limit}"),
                );
            }
            Outcome::Failure
        }
        Ending::Cancelled => {
            shared.system_line(ctx.key, Some(ctx.index), "the step was cancelled");
            Outcome::Cancelled
        }
    };
    finish(
        ctx,
        outcome,
        continue_on_error,
        ending.exit_code(),
        started,
        outputs,
        hit_job_deadline,
    )
}

fn finish(
    ctx: &StepContext,
    outcome: Outcome,
    continue_on_error: bool,
    exit_code: Option<i32>,
    started: Instant,
    outputs: IndexMap<String, String>,
    timed_out_job: bool,
) -> StepRecord {
    let conclusion = if outcome == Outcome::Failure && continue_on_error {
        Outcome::Success
    } else {
        outcome
    };
    ctx.shared.emit(Event::StepFinished {
        job: ctx.key.clone(),
        step: ctx.index,
        outcome,
        conclusion,
        exit_code,
        duration_ms: started.elapsed().as_millis() as u64,
        cached: false,
        at: now(),
    });
    StepRecord {
        outcome,
        conclusion,
        outputs,
        timed_out_job,
    }
}

/// The step's name as shown: `name:` evaluated, else GitHub's default.
fn display_name(host: &RunHost, step: &Step) -> String {
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

/// Writes the script, resolves the shell and builds the process to start.
#[allow(clippy::too_many_arguments)]
fn prepare_run(
    ctx: &StepContext,
    state: &JobState,
    host: &RunHost,
    script: &sluice_workflow::Token,
    shell: Option<&sluice_workflow::Token>,
    working_directory: Option<&sluice_workflow::Token>,
    env: &IndexMap<String, String>,
) -> Result<(ProcessSpec, CommandFiles), String> {
    let spec = ctx.shared.spec;
    let script = host.string(script).map_err(|m| format!("run: {m}"))?;
    let defaults = [&ctx.job.defaults, &spec.workflow.defaults];
    let shell_token = shell.or_else(|| defaults.iter().find_map(|d| d.shell.as_ref()));
    let shell_name = match shell_token {
        Some(t) => Some(host.string(t).map_err(|m| format!("shell: {m}"))?),
        None => None,
    };
    let dir_token =
        working_directory.or_else(|| defaults.iter().find_map(|d| d.working_directory.as_ref()));
    let cwd = match dir_token {
        Some(t) => {
            let dir = host
                .string(t)
                .map_err(|m| format!("working-directory: {m}"))?;
            spec.workspace.join(dir)
        }
        None => spec.workspace.clone(),
    };
    if !cwd.is_dir() {
        return Err(format!(
            "working-directory {} does not exist",
            cwd.display()
        ));
    }

    ctx.shared.prepare_for_processes()?;
    state.ensure_dirs()?;
    let files = CommandFiles::create(&state.files_dir)
        .map_err(|e| format!("cannot create the step's command files: {e}"))?;
    let mut process_env: IndexMap<String, String> = spec.base_env.iter().cloned().collect();
    let dirs = RunnerDirs {
        workspace: &spec.workspace,
        temp: &state.temp,
        tool_cache: &spec.tool_cache,
        event_path: &ctx.shared.event_path,
    };
    let github = host.contexts.get("github").cloned().unwrap_or(Value::Null);
    // `env` already layers the job's env, GITHUB_ENV and the step's env;
    // GitHub's own variables come last because steps may not replace them.
    for (k, v) in env {
        process_env.insert(k.clone(), v.clone());
    }
    for (k, v) in runner_env::default_variables(&github, &ctx.job.id, &ctx.step.id, &dirs, &files) {
        process_env.insert(k, v);
    }
    let base_path = process_env
        .get("PATH")
        .cloned()
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    let path = if state.added_path.is_empty() {
        base_path
    } else {
        format!("{}:{base_path}", state.added_path.join(":"))
    };
    process_env.insert("PATH".into(), path.clone());

    let shell = Shell::resolve(shell_name.as_deref(), &path).map_err(|e| e.to_string())?;
    let program = shell.program_path(&path).map_err(|e| e.to_string())?;
    // One script file per job and extension, overwritten by each step: the
    // previous step's shell has exited by now.
    let script_path = state.temp.join(format!("step-script.{}", shell.extension));
    std::fs::write(&script_path, shell.script_text(&script))
        .map_err(|e| format!("cannot write the script to {}: {e}", script_path.display()))?;
    let shared = ctx.shared;
    shared.system_line(
        ctx.key,
        Some(ctx.index),
        &format!("shell: {}", shell.display),
    );
    Ok((
        ProcessSpec {
            program,
            args: shell.arguments(&script_path),
            cwd,
            env: process_env.into_iter().collect(),
            // The job's id plus the step: a timeout or cancel stops this
            // step's tree only; the job's sweep (by prefix) finds it all.
            tracking_id: format!("{}_s{}_", state.tracking_id, ctx.index),
        },
        files,
    ))
}

/// What a step's workflow commands asked for, applied when it ends.
#[derive(Default)]
struct Effects {
    outputs: IndexMap<String, String>,
    env: Vec<(String, String)>,
    path: Vec<String>,
    /// A command could not be processed: GitHub fails the step.
    failed: bool,
}

/// One line of the step's output: a workflow command, or a log line.
fn handle_line(
    ctx: &StepContext,
    parser: &mut CommandParser,
    stream: Stream,
    line: &str,
    effects: &mut Effects,
) {
    let shared = ctx.shared;
    let log = |stream: Stream, text: &str| {
        shared.emit(Event::Log {
            job: ctx.key.clone(),
            step: Some(ctx.index),
            stream,
            line: shared.mask(text),
            at: now(),
        });
    };
    let (command, echo) = match parser.parse_line(line) {
        LineKind::Output(text) => {
            log(stream, text);
            return;
        }
        LineKind::Command { command, echo } => (command, echo),
    };
    // A new secret is registered before anything about the line is shown.
    if let Some(secret) = command.secret() {
        shared.add_mask(secret);
    }
    if let Some(echo) = echo {
        log(stream, echo);
    }
    if let Some(warning) = command.deprecation_warning() {
        log(Stream::System, &format!("warning: {warning}"));
    }
    let annotate = |level: workflow_commands::AnnotationLevel,
                    message: &str,
                    annotation: Option<&workflow_commands::Annotation>| {
        let level = match level {
            workflow_commands::AnnotationLevel::Error => AnnotationLevel::Error,
            workflow_commands::AnnotationLevel::Warning => AnnotationLevel::Warning,
            workflow_commands::AnnotationLevel::Notice => AnnotationLevel::Notice,
        };
        let message = shared.mask(message);
        log(Stream::System, &format!("{}: {message}", level_name(level)));
        shared.emit(Event::Annotation {
            job: ctx.key.clone(),
            step: Some(ctx.index),
            level,
            message,
            file: annotation.and_then(|a| a.file.as_deref().map(|f| shared.mask(f))),
            line: annotation.and_then(|a| a.line),
            col: annotation.and_then(|a| a.col),
            title: annotation.and_then(|a| a.title.as_deref().map(|t| shared.mask(t))),
            at: now(),
        });
    };
    match command {
        WorkflowCommand::Group { title } => log(stream, &format!("▸ {title}")),
        WorkflowCommand::Annotation(annotation) => {
            annotate(annotation.level, &annotation.message, Some(&annotation))
        }
        WorkflowCommand::Problem { level, message } => annotate(level, &message, None),
        WorkflowCommand::SetOutput { name, value } => {
            effects.outputs.insert(name, value);
        }
        WorkflowCommand::SetEnv { name, value } => effects.env.push((name, value)),
        WorkflowCommand::AddPath { path } => effects.path.push(path),
        WorkflowCommand::AddMatcher { .. } | WorkflowCommand::RemoveMatcher(_) => {
            log(
                Stream::System,
                "notice: problem matchers are not supported by Sluice; the command was ignored",
            );
        }
        WorkflowCommand::Failed(failure) => {
            for line in failure.lines() {
                log(Stream::System, &format!("error: {line}"));
            }
            effects.failed = true;
        }
        WorkflowCommand::AddMask { .. }
        | WorkflowCommand::EndGroup
        | WorkflowCommand::Debug { .. }
        | WorkflowCommand::SaveState { .. }
        | WorkflowCommand::StopCommands { .. }
        | WorkflowCommand::ResumeCommands { .. }
        | WorkflowCommand::Echo { .. } => {}
    }
}

fn level_name(level: AnnotationLevel) -> &'static str {
    match level {
        AnnotationLevel::Error => "error",
        AnnotationLevel::Warning => "warning",
        AnnotationLevel::Notice => "notice",
    }
}

/// Reads `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH` and the summary.
fn apply_file_commands(
    ctx: &StepContext,
    state: &mut JobState,
    files: &CommandFiles,
    outputs: &mut IndexMap<String, String>,
) -> bool {
    let shared = ctx.shared;
    let read = |path: &PathBuf| std::fs::read_to_string(path).unwrap_or_default();
    let report = |message: String| {
        shared.system_line(ctx.key, Some(ctx.index), &format!("error: {message}"))
    };
    let mut malformed = false;
    // As on GitHub: the pairs before a malformed line apply, and the
    // malformed file fails the step.
    let (pairs, error) = file_commands::parse_key_values_until_error(
        &read(&files.output),
        "GITHUB_OUTPUT",
        file_commands::Newlines::HOST,
    );
    outputs.extend(pairs);
    if let Some(e) = error {
        report(e.to_string());
        malformed = true;
    }
    let (pairs, error) = file_commands::parse_key_values_until_error(
        &read(&files.env),
        "GITHUB_ENV",
        file_commands::Newlines::HOST,
    );
    for (name, value) in pairs {
        match file_commands::check_env_name(&name) {
            Ok(()) => {
                state.exported_env.insert(name, value);
            }
            Err(blocked) => report(blocked.to_string()),
        }
    }
    if let Some(e) = error {
        report(e.to_string());
        malformed = true;
    }
    for dir in file_commands::parse_path_file(&read(&files.path)) {
        state.added_path.insert(0, dir);
    }
    let mut summary = read(&files.summary);
    if !summary.trim().is_empty() {
        if summary.len() > MAX_SUMMARY_BYTES {
            let mut cut = MAX_SUMMARY_BYTES;
            while !summary.is_char_boundary(cut) {
                cut -= 1;
            }
            summary.truncate(cut);
            report("the step summary is over 1 MiB and was cut".into());
        }
        shared.emit(Event::StepSummary {
            job: ctx.key.clone(),
            step: ctx.index,
            markdown: shared.mask(&summary),
            at: now(),
        });
    }
    malformed
}
