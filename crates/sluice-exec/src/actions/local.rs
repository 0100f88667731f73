//! Actions with their own code: local ones (`uses: ./path`) and vendored
//! copies of remote ones. Composite actions run their steps inside the
//! step that uses them, with their own `inputs` and `steps` contexts;
//! JavaScript actions run under the host's `node` with `pre` (at the start
//! of the job), `main`, and `post` (at its end, in reverse order).

use std::path::{Path, PathBuf};
use std::time::Instant;

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_workflow::{Action, ActionRuns, Job, ParseOptions, SourceFile, Step, StepAction};

use super::Post;
use crate::eval_host::{RunHost, Status};
use crate::events::CancelLevel;
use crate::events::{Event, JobKey, LogLevel, Outcome, now};
use crate::job::JobState;
use crate::run_spec::Shared;
use crate::step::{Nested, StepContext, StepLimits, StepRecord, StepResult, run_step};

/// How deep actions may use actions (GitHub allows about as many).
const MAX_DEPTH: usize = 10;

/// A JavaScript action's `post`, registered when its `main` ran.
pub(crate) struct PostNode {
    /// The `node` the action's `using:` asked for.
    pub node: String,
    pub step: usize,
    pub action_path: PathBuf,
    pub script: String,
    /// `post-if`, `always()` by default.
    pub condition: String,
    /// The `INPUT_*` variables the main step had.
    pub env: IndexMap<String, String>,
}

/// Reads the action in `dir`; `Err` has the messages to show.
fn load(ctx: &StepContext, dir: &Path) -> Result<Action, Vec<String>> {
    let file = ["action.yml", "action.yaml"]
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
        .ok_or_else(|| vec![format!("no action.yml or action.yaml in {}", dir.display())])?;
    let text = std::fs::read_to_string(&file)
        .map_err(|e| vec![format!("cannot read {}: {e}", file.display())])?;
    let shown = file
        .strip_prefix(ctx.workspace)
        .or_else(|_| file.strip_prefix(&ctx.shared.spec.workspace))
        .map_or_else(|_| file.display().to_string(), |p| p.display().to_string());
    let parsed =
        sluice_workflow::parse_action(SourceFile::new(shown, text), &ParseOptions::default());
    let errors: Vec<String> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| match &d.help {
            Some(help) => format!("{} ({help})", d.short()),
            None => d.short(),
        })
        .collect();
    match parsed.action {
        Some(action) if errors.is_empty() => Ok(action),
        _ if !errors.is_empty() => Err(errors),
        _ => Err(vec![format!("{} could not be read", file.display())]),
    }
}

/// The action's inputs: what `with:` gives, else the default.
fn resolve_inputs(
    ctx: &StepContext,
    host: &RunHost,
    action: &Action,
    given: &IndexMap<String, String>,
) -> Result<IndexMap<String, String>, String> {
    let say = |line: String| ctx.shared.system_line(ctx.key, Some(ctx.index), &line);
    let mut inputs = IndexMap::new();
    for (id, input) in &action.inputs {
        let value = match given.get(&id.to_ascii_lowercase()) {
            Some(value) => {
                if let Some(message) = &input.deprecation_message {
                    say(format!("warning: input '{id}' is deprecated: {message}"));
                }
                value.clone()
            }
            None => match &input.default {
                Some(token) => host
                    .string(token)
                    .map_err(|e| format!("{}: inputs.{id}.default: {e}", action.source.name))?,
                None => {
                    if input.required {
                        say(format!("warning: Input required and not supplied: {id}"));
                    }
                    String::new()
                }
            },
        };
        inputs.insert(id.clone(), value);
    }
    let unexpected: Vec<&String> = given
        .keys()
        .filter(|k| !action.inputs.keys().any(|id| id.eq_ignore_ascii_case(k)))
        .collect();
    if !unexpected.is_empty() {
        let valid: Vec<&String> = action.inputs.keys().collect();
        say(format!(
            "warning: Unexpected input(s) {unexpected:?}, valid inputs are {valid:?}"
        ));
    }
    Ok(inputs)
}

/// `INPUT_<NAME>` for each input, as the actions toolkit reads them.
fn input_variables(inputs: &IndexMap<String, String>) -> IndexMap<String, String> {
    inputs
        .iter()
        .map(|(k, v)| {
            (
                format!("INPUT_{}", k.replace(' ', "_").to_ascii_uppercase()),
                v.clone(),
            )
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    uses: &str,
    dir: &Path,
    given: &IndexMap<String, String>,
) -> StepResult {
    let depth = ctx.nested.map_or(0, |n| n.depth);
    if depth >= MAX_DEPTH {
        return StepResult::error(
            ctx,
            &format!("`uses: {uses}`: actions nest more than {MAX_DEPTH} deep"),
        );
    }
    let action = match load(ctx, dir) {
        Ok(action) => action,
        Err(messages) => {
            for message in &messages {
                ctx.shared
                    .system_message(ctx.key, Some(ctx.index), LogLevel::Error, message);
            }
            return StepResult::outcome(Outcome::Failure);
        }
    };
    let inputs = match resolve_inputs(ctx, host, &action, given) {
        Ok(inputs) => inputs,
        Err(message) => return StepResult::error(ctx, &message),
    };
    match &action.runs {
        ActionRuns::Composite { steps } => {
            composite(ctx, state, env, &action, dir, &inputs, steps, depth + 1)
        }
        ActionRuns::Node {
            using,
            main,
            post,
            post_if,
            ..
        } => {
            let node = node_for(ctx, using);
            let mut variables = input_variables(given);
            variables.extend(input_variables(&inputs));
            let mut step_env = env.clone();
            step_env.extend(variables.clone());
            step_env.insert("GITHUB_ACTION_PATH".into(), dir.display().to_string());
            add_state(&mut step_env, state, ctx.index);
            let result = crate::script_step::run_program(
                ctx,
                state,
                host,
                &step_env,
                limits,
                (
                    node.as_str(),
                    vec![dir.join(&main.value).display().to_string()],
                ),
            );
            if let Some(post) = post {
                state.posts.push(Post::Node(PostNode {
                    node: node.clone(),
                    step: ctx.index,
                    action_path: dir.to_path_buf(),
                    script: post.value.clone(),
                    condition: post_if.clone().unwrap_or_else(|| "always()".into()),
                    env: variables,
                }));
            }
            result
        }
        ActionRuns::Docker {
            image,
            args,
            env: action_env,
            entrypoint,
            pre_entrypoint,
            post_entrypoint,
            ..
        } => {
            let mut step_env = env.clone();
            step_env.extend(input_variables(given));
            step_env.extend(input_variables(&inputs));
            super::docker_action::run(
                ctx,
                state,
                &step_env,
                limits,
                dir,
                &super::docker_action::DockerRuns {
                    image,
                    args,
                    env: action_env.as_ref(),
                    entrypoint: entrypoint.as_deref(),
                    pre_entrypoint: pre_entrypoint.as_deref(),
                    post_entrypoint: post_entrypoint.as_deref(),
                },
                &inputs,
            )
        }
    }
}

/// `STATE_<name>` for what the step saved with `GITHUB_STATE`.
fn add_state(env: &mut IndexMap<String, String>, state: &JobState, step: usize) {
    if let Some(saved) = state.saved_state.get(&step) {
        for (name, value) in saved {
            env.insert(format!("STATE_{name}"), value.clone());
        }
    }
}

/// Runs a composite action's steps inside the calling step.
#[allow(clippy::too_many_arguments)]
fn composite(
    ctx: &StepContext,
    state: &mut JobState,
    env: &IndexMap<String, String>,
    action: &Action,
    dir: &Path,
    inputs: &IndexMap<String, String>,
    steps: &[Step],
    depth: usize,
) -> StepResult {
    let inputs_value = Value::Object(
        inputs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    );
    // The action sees its own `inputs` and `steps`, and `github.action_path`.
    let saved_steps = state
        .contexts
        .insert("steps".into(), Value::Object(IndexMap::new()));
    let saved_inputs = state.contexts.insert("inputs".into(), inputs_value);
    let saved_github = state.contexts.get("github").cloned();
    if let Some(Value::Object(github)) = state.contexts.get_mut("github") {
        github.insert(
            "action_path".into(),
            Value::String(dir.display().to_string()),
        );
    }
    let saved_env = std::mem::replace(&mut state.job_env, env.clone());
    let outer_failed = state.failed;
    let nested = Nested {
        action_path: dir.to_path_buf(),
        file: action.source.name.clone(),
        depth,
    };
    let mut failed = false;
    let mut timed_out_job = false;
    for step in steps {
        let inner = StepContext {
            shared: ctx.shared,
            key: ctx.key,
            job: ctx.job,
            workflow: ctx.workflow,
            step,
            index: ctx.index,
            cancel_level: ctx.cancel_level,
            job_timed_out: ctx.job_timed_out || timed_out_job,
            upstream_keys: ctx.upstream_keys,
            workspace: ctx.workspace,
            nested: Some(&nested),
        };
        let record: StepRecord = run_step(&inner, state);
        if record.conclusion == Outcome::Failure {
            failed = true;
            state.failed = true;
        }
        timed_out_job |= record.timed_out_job;
        if let Some(Value::Object(inner_steps)) = state.contexts.get_mut("steps") {
            inner_steps.insert(step.id.clone(), record.context_value());
        }
    }
    let host = RunHost {
        contexts: &state.contexts,
        status: Status::Step {
            failed,
            cancelled: (ctx.cancel_level)() != CancelLevel::None,
        },
        workspace: ctx.workspace,
    };
    let mut outputs = IndexMap::new();
    let mut output_error = None;
    for (id, output) in &action.outputs {
        if let Some(token) = &output.value {
            match host.string(token) {
                Ok(value) => {
                    outputs.insert(id.clone(), value);
                }
                Err(e) => output_error = Some(format!("{}: outputs.{id}: {e}", action.source.name)),
            }
        }
    }
    // Back to the caller's view.
    restore(&mut state.contexts, "steps", saved_steps);
    restore(&mut state.contexts, "inputs", saved_inputs);
    restore(&mut state.contexts, "github", saved_github);
    state.job_env = saved_env;
    state.failed = outer_failed;
    if let Some(message) = output_error {
        return StepResult::error(ctx, &message);
    }
    let cancelled = (ctx.cancel_level)() != CancelLevel::None;
    let mut result = StepResult::outcome(match (failed, cancelled) {
        (true, _) => Outcome::Failure,
        (false, true) => Outcome::Cancelled,
        _ => Outcome::Success,
    });
    result.outputs = outputs;
    result.timed_out_job = timed_out_job;
    result
}

fn restore(contexts: &mut IndexMap<String, Value>, name: &str, saved: Option<Value>) {
    match saved {
        Some(value) => {
            contexts.insert(name.to_string(), value);
        }
        None => {
            contexts.shift_remove(name);
        }
    }
}

/// Runs a JavaScript action's `post` step.
pub(crate) fn run_post(ctx: &StepContext, state: &mut JobState, post: &PostNode) -> Outcome {
    let mut env = state.job_env.clone();
    env.extend(state.exported_env.clone());
    env.extend(post.env.clone());
    env.insert(
        "GITHUB_ACTION_PATH".into(),
        post.action_path.display().to_string(),
    );
    add_state(&mut env, state, post.step);
    let contexts = state.contexts.clone();
    let host = RunHost {
        contexts: &contexts,
        status: Status::Step {
            failed: state.failed,
            cancelled: false,
        },
        workspace: ctx.workspace,
    };
    let limits = post_limits(state);
    crate::script_step::run_program(
        ctx,
        state,
        &host,
        &env,
        &limits,
        (
            post.node.as_str(),
            vec![post.action_path.join(&post.script).display().to_string()],
        ),
    )
    .outcome
}

/// Pre and post steps get the job's time, or a few minutes after it ran
/// out (as cleanups do).
fn post_limits(state: &JobState) -> StepLimits {
    let started = Instant::now();
    let job_deadline = state
        .deadline
        .max(started + std::time::Duration::from_secs(5 * 60));
    StepLimits {
        started,
        step_timeout: None,
        deadline: job_deadline,
        job_deadline,
    }
}

/// Runs the `pre` of each JavaScript action the job's steps use, before
/// its first step, in step order (honouring `pre-if`, `always()` by
/// default). A failing `pre` fails the job.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_pre_steps(
    shared: &Shared,
    key: &JobKey,
    job: &Job,
    workflow: &sluice_workflow::Workflow,
    state: &mut JobState,
    cancel_level: &dyn Fn() -> CancelLevel,
    workspace: &Path,
    upstream_keys: &IndexMap<JobKey, Vec<String>>,
) {
    let steps = job.steps();
    let mut count = 0;
    for step in steps {
        let StepAction::Uses { uses, with, .. } = &step.action else {
            continue;
        };
        let index = 2 * steps.len() + count;
        let ctx = StepContext {
            shared,
            key,
            job,
            workflow,
            step,
            index,
            cancel_level,
            job_timed_out: false,
            upstream_keys,
            workspace,
            nested: None,
        };
        let dir = if uses.value.starts_with("./") || uses.value.starts_with("../") {
            super::local_dir(workspace, &uses.value)
        } else if let Some(dir) = super::vendored(&ctx, &uses.value) {
            dir
        } else if shared.spec.native_actions.runs_natively(&uses.value) {
            continue;
        } else {
            // A fetched action (resolved as the run started).
            match super::fetched_dir(&ctx, &uses.value) {
                Ok((dir, _)) => dir,
                Err(_) => continue,
            }
        };
        let Ok(action) = load(&ctx, &dir) else {
            // The step itself reports what is wrong when it runs.
            continue;
        };
        let ActionRuns::Node {
            using,
            pre: Some(pre),
            pre_if,
            ..
        } = &action.runs
        else {
            continue;
        };
        count += 1;
        let contexts = state.contexts.clone();
        let host = RunHost {
            contexts: &contexts,
            status: Status::Step {
                failed: state.failed,
                cancelled: cancel_level() != CancelLevel::None,
            },
            workspace,
        };
        let condition = pre_if.clone().unwrap_or_else(|| "always()".into());
        if !host.condition(&condition).unwrap_or(false) {
            continue;
        }
        let mut given = IndexMap::new();
        for (name, token) in with {
            if let Ok(value) = host.string(token) {
                given.insert(name.to_ascii_lowercase(), value);
            }
        }
        let started = Instant::now();
        shared.emit(Event::StepStarted {
            job: key.clone(),
            step: index,
            step_id: format!("pre-{}", step.id),
            name: format!("Pre Run {}", uses.value),
            at: now(),
        });
        let outcome = match resolve_inputs(&ctx, &host, &action, &given) {
            Ok(inputs) => {
                let mut env = state.job_env.clone();
                env.extend(input_variables(&given));
                env.extend(input_variables(&inputs));
                env.insert("GITHUB_ACTION_PATH".into(), dir.display().to_string());
                let limits = post_limits(state);
                let result = crate::script_step::run_program(
                    &ctx,
                    state,
                    &host,
                    &env,
                    &limits,
                    (
                        node_for(&ctx, using).as_str(),
                        vec![dir.join(&pre.value).display().to_string()],
                    ),
                );
                // What `pre` saved is for the step's `main` and `post`.
                if let Some(saved) = state.saved_state.shift_remove(&index) {
                    state
                        .saved_state
                        .entry(step.index)
                        .or_default()
                        .extend(saved);
                }
                result.outcome
            }
            Err(message) => StepResult::error(&ctx, &message).outcome,
        };
        if outcome == Outcome::Failure {
            state.failed = true;
        }
        shared.emit(Event::StepFinished {
            job: key.clone(),
            step: index,
            outcome,
            conclusion: outcome,
            exit_code: None,
            duration_ms: started.elapsed().as_millis() as u64,
            cached: false,
            at: now(),
        });
    }
}

/// The `node` for a JavaScript action that declares `using: nodeNN`: one of
/// that major version from the host or downloaded (see
/// [`crate::toolchains`]); else the host's, with a warning.
fn node_for(ctx: &StepContext, using: &str) -> String {
    let major = using.trim_start_matches("node");
    let path = ctx
        .shared
        .spec
        .base_env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or("/usr/local/bin:/usr/bin:/bin", |(_, v)| v.as_str());
    match ctx.shared.spec.toolchains.node(major, path, None, true) {
        Ok(found) => found.program.display().to_string(),
        Err(e) => {
            ctx.shared.system_message(
                ctx.key,
                Some(ctx.index),
                LogLevel::Warning,
                &format!(
                    "the action runs on {using}, which cannot be had ({e}); the host's node is used"
                ),
            );
            "node".into()
        }
    }
}
