//! A `run:` step: its script, shell and directory, the process that runs
//! it, and — when it declares `cache:` — the step cache around it.

use std::path::PathBuf;
use std::time::Instant;

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_workflow::Token;

use crate::eval_host::RunHost;
use crate::events::CancelLevel;
use crate::events::{LogLevel, Outcome, Stream};
use crate::job::{JobState, human_minutes};
use crate::runner_env::{self, CommandFiles, RunnerDirs};
use crate::shell::Shell;
use crate::step::{StepContext, StepLimits, StepResult};
use crate::step_cache;
use crate::step_output::{self, Effects};
use crate::step_process::{self, Ending, LineEnd, ProcessSpec};
use crate::workflow_commands::{self, CommandOptions, CommandParser};

/// A `run:` step with its expressions evaluated.
pub(crate) struct Script {
    pub text: String,
    /// `shell:` as written (after `defaults.run`), `None` for the default.
    pub shell: Option<String>,
    /// The directory it runs in, and the same relative to the workspace.
    pub cwd: PathBuf,
    pub relative_dir: String,
    /// Run this program with these arguments instead of the script in a
    /// shell (a JavaScript action's entry point under `node`).
    pub program: Option<(String, Vec<String>)>,
}

/// Runs `program args` in the job's workspace as a step would run a
/// script: with the step's environment, file commands, workflow commands,
/// limits and cancellation.
pub(crate) fn run_program(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    (program, args): (&str, Vec<String>),
) -> StepResult {
    let script = Script {
        text: String::new(),
        shell: None,
        cwd: ctx.workspace.to_path_buf(),
        relative_dir: String::new(),
        program: Some((program.to_string(), args)),
    };
    execute(ctx, state, host, env, limits, &script, None).0
}

/// A `run:` step as written: the script and where and how it runs.
pub(crate) struct RunStep<'a> {
    pub script: &'a Token,
    pub shell: Option<&'a Token>,
    pub working_directory: Option<&'a Token>,
}

pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    step: &RunStep,
) -> StepResult {
    let script = match resolve(ctx, host, step) {
        Ok(script) => script,
        Err(message) => return StepResult::error(ctx, &message),
    };
    let cached = match (&ctx.step.cache, &ctx.shared.spec.cache) {
        (Some(declared), Some(cache)) => Some((declared, cache)),
        _ => None,
    };
    let Some((declared, cache)) = cached else {
        return execute(ctx, state, host, env, limits, &script, None).0;
    };
    let lookup = match step_cache::lookup(ctx, state, cache, declared, &script, env) {
        step_cache::Lookup::Hit(result) => return result,
        step_cache::Lookup::Miss(pending) => *pending,
        step_cache::Lookup::Unavailable(reason) => {
            ctx.shared.system_message(
                ctx.key,
                Some(ctx.index),
                LogLevel::Warning,
                &format!("step cache: {reason}"),
            );
            return execute(ctx, state, host, env, limits, &script, None).0;
        }
    };
    let started = Instant::now();
    let (mut result, effects) = execute(ctx, state, host, env, limits, &script, Some(Vec::new()));
    result.cache_key = Some(lookup.key.clone());
    let unsafe_to_keep = step_cache::secret_in_result(ctx, &effects)
        .map(str::to_string)
        .or_else(|| step_cache::secret_in_output_files(ctx, declared, &script));
    if let Some(reason) = unsafe_to_keep.filter(|_| result.outcome == Outcome::Success) {
        ctx.shared.system_message(
            ctx.key,
            Some(ctx.index),
            LogLevel::Notice,
            &format!("the step's result is not cached: {reason}"),
        );
    } else if result.outcome == Outcome::Success {
        step_cache::save(
            ctx,
            cache,
            declared,
            &script,
            lookup,
            &effects,
            started.elapsed(),
        );
    }
    result
}

/// Evaluates the script, shell and working directory.
fn resolve(ctx: &StepContext, host: &RunHost, step: &RunStep) -> Result<Script, String> {
    let RunStep {
        script,
        shell,
        working_directory,
    } = *step;
    let text = host.string(script).map_err(|m| format!("run: {m}"))?;
    let defaults = [&ctx.job.defaults, &ctx.workflow.defaults];
    let shell_token = shell.or_else(|| defaults.iter().find_map(|d| d.shell.as_ref()));
    let shell = match shell_token {
        Some(t) => Some(host.string(t).map_err(|m| format!("shell: {m}"))?),
        None => None,
    };
    let dir_token =
        working_directory.or_else(|| defaults.iter().find_map(|d| d.working_directory.as_ref()));
    let relative_dir = match dir_token {
        Some(t) => host
            .string(t)
            .map_err(|m| format!("working-directory: {m}"))?,
        None => String::new(),
    };
    let cwd = ctx.workspace.join(&relative_dir);
    if !cwd.is_dir() {
        return Err(format!(
            "working-directory {} does not exist",
            cwd.display()
        ));
    }
    Ok(Script {
        text,
        shell,
        cwd,
        relative_dir,
        program: None,
    })
}

/// Runs the script and applies what it left behind. With `capture`, the
/// step's log lines are kept (for the step cache) in the returned effects.
fn execute(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    script: &Script,
    capture: Option<Vec<(Stream, String)>>,
) -> (StepResult, Effects) {
    let shared = ctx.shared;
    let mut effects = Effects {
        captured: capture,
        ..Effects::default()
    };
    let (process, files) = match prepare(ctx, state, host, env, script) {
        Ok(prepared) => prepared,
        Err(message) => return (StepResult::error(ctx, &message), effects),
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
        return (StepResult::outcome(Outcome::Cancelled), effects);
    }
    let escalation = || {
        let level = (ctx.cancel_level)();
        if level > level_at_start {
            level
        } else {
            CancelLevel::None
        }
    };
    let allow = |name: &str| {
        process
            .env
            .iter()
            .find(|(k, _)| k == name)
            .is_some_and(|(_, v)| workflow_commands::allows_unsecure_commands(v))
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
    let ending = {
        let mut stdout_split = step_output::SplitLine::default();
        let mut stderr_split = step_output::SplitLine::default();
        let mut on_line = |stream: Stream, piece: &str, end: LineEnd| {
            let (parser, split) = if stream == Stream::Stderr {
                (&mut stderr_parser, &mut stderr_split)
            } else {
                (&mut stdout_parser, &mut stdout_split)
            };
            split.piece(ctx, parser, stream, piece, end, &mut effects);
        };
        step_process::run(
            &process,
            Some(limits.deadline),
            &escalation,
            shared.spec.grace,
            &mut on_line,
        )
    };
    let ending = match ending {
        Ok(ending) => ending,
        Err(e) => {
            let message = format!("cannot start {}: {e}", process.program.display());
            return (StepResult::error(ctx, &message), effects);
        }
    };
    step_output::read_file_commands(ctx, &files, &mut effects);
    effects.apply_to(state);
    effects.keep_state(state, ctx.index);
    step_output::emit_summary(ctx, &effects);
    let mut result = StepResult::outcome(Outcome::Success);
    result.exit_code = ending.exit_code();
    result.outputs = effects.outputs.clone();
    let report = |line: String| shared.system_line(ctx.key, Some(ctx.index), &line);
    result.outcome = match ending {
        Ending::Exited(0) if effects.failed => Outcome::Failure,
        Ending::Exited(0) => Outcome::Success,
        Ending::Exited(code) => {
            report(format!("error: process completed with exit code {code}"));
            Outcome::Failure
        }
        Ending::Signalled(signal) => {
            report(format!("error: process was killed by signal {signal}"));
            Outcome::Failure
        }
        Ending::TimedOut => {
            if limits.job_deadline_first() {
                result.timed_out_job = true;
                report("error: the job has timed out; the step was stopped".into());
            } else {
                let limit = limits.step_timeout.map(human_minutes).unwrap_or_default();
                report(format!("error: the step has timed out after {limit}"));
            }
            Outcome::Failure
        }
        Ending::Cancelled => {
            report("the step was cancelled".into());
            Outcome::Cancelled
        }
    };
    (result, effects)
}

/// Writes the script and builds the process to start.
fn prepare(
    ctx: &StepContext,
    state: &JobState,
    host: &RunHost,
    env: &IndexMap<String, String>,
    script: &Script,
) -> Result<(ProcessSpec, CommandFiles), String> {
    let shared = ctx.shared;
    let spec = shared.spec;
    state.ensure_dirs(shared)?;
    let files = CommandFiles::create(&state.files_dir)
        .map_err(|e| format!("cannot create the step's command files: {e}"))?;
    let mut process_env: IndexMap<String, String> = spec.base_env.iter().cloned().collect();
    let dirs = RunnerDirs {
        workspace: ctx.workspace,
        temp: &state.temp,
        tool_cache: &spec.tool_cache,
        event_path: &shared.event_path,
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
    process_env.insert("SLUICE_JOB_ID".into(), state.job_id.clone());
    if let Some(nested) = ctx.nested {
        process_env.insert(
            "GITHUB_ACTION_PATH".into(),
            nested.action_path.display().to_string(),
        );
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

    if let Some((program, args)) = &script.program {
        let program = crate::shell::find_program(program, &path).ok_or_else(|| {
            format!("{program} is not installed on this host (it is not on PATH)")
        })?;
        return Ok((
            ProcessSpec {
                program,
                args: args.clone(),
                cwd: script.cwd.clone(),
                env: process_env.into_iter().collect(),
                tracking_id: format!("{}_s{}_", state.tracking_id, ctx.index),
                session_log: Some(spec.temp_root.clone()),
            },
            files,
        ));
    }
    if let Some(container) = &state.container {
        return in_container(ctx, state, container, env, &github, &dirs, &files, script);
    }
    let shell = Shell::resolve(script.shell.as_deref(), &path).map_err(|e| e.to_string())?;
    let program = shell.program_path(&path).map_err(|e| e.to_string())?;
    // One script file per job and extension, overwritten by each step: the
    // previous step's shell has exited by now.
    let script_path = state.temp.join(format!("step-script.{}", shell.extension));
    std::fs::write(&script_path, shell.script_text(&script.text))
        .map_err(|e| format!("cannot write the script to {}: {e}", script_path.display()))?;
    shared.system_message(
        ctx.key,
        Some(ctx.index),
        LogLevel::Detail,
        &shell.display.to_string(),
    );
    Ok((
        ProcessSpec {
            program,
            args: shell.arguments(&script_path),
            cwd: script.cwd.clone(),
            env: process_env.into_iter().collect(),
            // The job's id plus the step: a timeout or cancel stops this
            // step's tree only; the job's sweep (by prefix) finds it all.
            tracking_id: format!("{}_s{}_", state.tracking_id, ctx.index),
            session_log: Some(spec.temp_root.clone()),
        },
        files,
    ))
}

/// A `run:` step of a container job: the script runs in the job's
/// container through the engine's client, with the step's environment
/// (not Sluice's own: the container has its own) in a private env file,
/// the container's PATH with what `GITHUB_PATH` added, and the
/// container's shell.
#[allow(clippy::too_many_arguments)]
fn in_container(
    ctx: &StepContext,
    state: &JobState,
    container: &crate::job_container::JobContainer,
    env: &IndexMap<String, String>,
    github: &Value,
    dirs: &RunnerDirs,
    files: &CommandFiles,
    script: &Script,
) -> Result<(ProcessSpec, CommandFiles), String> {
    let shared = ctx.shared;
    let mut inside: IndexMap<String, String> = env.clone();
    for (k, v) in runner_env::default_variables(github, &ctx.job.id, &ctx.step.id, dirs, files) {
        inside.insert(k, v);
    }
    inside.insert("SLUICE_JOB_ID".into(), state.job_id.clone());
    let mut path = container.path.clone();
    if !state.added_path.is_empty() {
        path = format!("{}:{path}", state.added_path.join(":"));
    }
    inside.insert("PATH".into(), path);
    let present = |program: &str| match program {
        "bash" => container.has_bash,
        "python" => container.has_python,
        _ => true,
    };
    let shell =
        Shell::resolve_with(script.shell.as_deref(), &present).map_err(|e| e.to_string())?;
    let script_path = state.temp.join(format!("step-script.{}", shell.extension));
    std::fs::write(&script_path, shell.script_text(&script.text))
        .map_err(|e| format!("cannot write the script to {}: {e}", script_path.display()))?;
    shared.system_message(
        ctx.key,
        Some(ctx.index),
        LogLevel::Detail,
        &format!("{} (in the job's container)", shell.display),
    );
    let (program, args) = container
        .exec_command(
            &inside,
            &state.files_dir.join("step.env"),
            &script.cwd,
            &shell.program,
            &shell.arguments(&script_path),
        )
        .map_err(|e| e.to_string())?;
    let client_env: Vec<(String, String)> = shared
        .spec
        .base_env
        .iter()
        .cloned()
        .chain(container.engine.client_env())
        .collect();
    Ok((
        ProcessSpec {
            program,
            args,
            cwd: script.cwd.clone(),
            env: client_env,
            tracking_id: format!("{}_s{}_", state.tracking_id, ctx.index),
            session_log: Some(shared.spec.temp_root.clone()),
        },
        files.clone(),
    ))
}
