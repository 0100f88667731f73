//! Docker container actions (`runs.using: docker`) and `uses: docker://`
//! steps, run through the container engine.
//!
//! The image is the action's `Dockerfile`, built locally (the engine
//! caches its layers), or the image named by `docker://`. The container
//! gets the workspace and the run's scratch directory mounted at the
//! paths the step sees, works in the workspace, and receives the step's
//! environment — `INPUT_*`, the action's `env`, the job's env and the
//! runner's variables — by name from the client's environment, so no value
//! appears on a command line. `args` and `env` are evaluated with the
//! action's `inputs`. `pre-entrypoint` runs just before the main
//! entrypoint and `post-entrypoint` just after it, in the same step.

use std::path::Path;

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_workflow::Token;

use sha2::Digest as _;

use crate::engine::{Engine, RUN_LABEL};
use crate::eval_host::{RunHost, Status};
use crate::events::Outcome;
use crate::job::JobState;
use crate::step::{StepContext, StepLimits, StepResult};

/// What a Docker action's `runs:` says.
pub(crate) struct DockerRuns<'a> {
    pub image: &'a str,
    pub args: &'a [Token],
    pub env: Option<&'a Token>,
    pub entrypoint: Option<&'a str>,
    pub pre_entrypoint: Option<&'a str>,
    pub post_entrypoint: Option<&'a str>,
}

/// Runs a Docker action from `dir` with its resolved `inputs`; `env` is
/// the step's environment with the `INPUT_*` variables.
pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    dir: &Path,
    runs: &DockerRuns,
    inputs: &IndexMap<String, String>,
) -> StepResult {
    let Some(engine) = engine_for(ctx) else {
        return StepResult::error(ctx, &no_engine(runs.image));
    };
    let image = match runs.image.strip_prefix("docker://") {
        Some(image) => image.to_string(),
        None => match build(&engine, dir, runs.image) {
            Ok(tag) => tag,
            Err(message) => return StepResult::error(ctx, &message),
        },
    };
    // `args` and `env` see the action's inputs.
    let mut contexts = state.contexts.clone();
    contexts.insert(
        "inputs".into(),
        Value::Object(
            inputs
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    let host = RunHost {
        contexts: &contexts,
        status: Status::Step {
            failed: state.failed,
            cancelled: false,
        },
        workspace: ctx.workspace,
    };
    let mut args = Vec::new();
    for token in runs.args {
        match host.string(token) {
            Ok(arg) => args.push(arg),
            Err(message) => return StepResult::error(ctx, &format!("args: {message}")),
        }
    }
    let mut step_env = env.clone();
    if let Some(token) = runs.env {
        match crate::job::evaluate_env(&host, token) {
            Ok(values) => step_env.extend(values),
            Err(message) => return StepResult::error(ctx, &format!("env: {message}")),
        }
    }
    let phases = [
        (runs.pre_entrypoint, Vec::new()),
        (runs.entrypoint.or(Some("")), args),
        (runs.post_entrypoint, Vec::new()),
    ];
    let mut last = StepResult::outcome(Outcome::Success);
    for (entrypoint, args) in phases {
        let Some(entrypoint) = entrypoint else {
            continue;
        };
        let docker_args = run_arguments(ctx, &image, entrypoint, &args, &step_env);
        last = run_client(ctx, state, &step_env, limits, &engine, docker_args);
        if last.outcome != Outcome::Success {
            break;
        }
    }
    last
}

/// A `uses: docker://IMAGE` step: the image run with `with.args` (split
/// as a shell would) and `with.entrypoint`.
pub(crate) fn run_image_step(
    ctx: &StepContext,
    state: &mut JobState,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    image: &str,
    inputs: &IndexMap<String, String>,
) -> StepResult {
    let Some(engine) = engine_for(ctx) else {
        return StepResult::error(ctx, &no_engine(image));
    };
    let args = match inputs.get("args").map(|a| crate::services::split_words(a)) {
        None => Vec::new(),
        Some(Ok(words)) => words,
        Some(Err(e)) => return StepResult::error(ctx, &format!("args: {e}")),
    };
    let entrypoint = inputs.get("entrypoint").map(String::as_str).unwrap_or("");
    let docker_args = run_arguments(ctx, image, entrypoint, &args, env);
    run_client(ctx, state, env, limits, &engine, docker_args)
}

fn engine_for(ctx: &StepContext) -> Option<Engine> {
    let spec = ctx.shared.spec;
    let path_var = spec
        .base_env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or("/usr/local/bin:/usr/bin:/bin", |(_, v)| v.as_str());
    let engine = crate::engine::find(path_var, spec.container_engine.as_deref())?;
    if ctx.shared.prepare_for_processes().is_ok() {
        engine.note_for_watcher(&spec.temp_root);
    }
    Some(engine)
}

fn no_engine(image: &str) -> String {
    format!(
        "the step runs the container image {image}, and no container engine answers here (docker or podman, through DOCKER_HOST, the default sockets, or container-engine in sluice.toml)"
    )
}

/// Builds the action's Dockerfile; returns the image's tag. The engine
/// reuses unchanged layers, so a second build of the same action is fast.
fn build(engine: &Engine, dir: &Path, dockerfile: &str) -> Result<String, String> {
    let file = dir.join(dockerfile);
    let context = file.parent().unwrap_or(dir);
    let key = crate::hash_files::hex(&sha2::Sha256::digest(dir.display().to_string().as_bytes()));
    let tag = format!("localhost/sluice-action-{}:latest", &key[..16]);
    engine
        .run(&[
            "build".into(),
            "--quiet".into(),
            "--tag".into(),
            tag.clone(),
            "--file".into(),
            file.display().to_string(),
            context.display().to_string(),
        ])
        .map_err(|e| {
            format!(
                "cannot build the action's image from {}: {e}",
                file.display()
            )
        })?;
    Ok(tag)
}

/// `docker run` for one entrypoint: mounts, working directory, the run's
/// label, and every variable of `env` passed by name.
fn run_arguments(
    ctx: &StepContext,
    image: &str,
    entrypoint: &str,
    args: &[String],
    env: &IndexMap<String, String>,
) -> Vec<String> {
    let spec = ctx.shared.spec;
    let mut docker_args: Vec<String> = vec![
        "run".into(),
        "--rm".into(),
        "--label".into(),
        format!("{RUN_LABEL}={}", spec.run_id),
        "--volume".into(),
        format!("{0}:{0}", ctx.workspace.display()),
        "--volume".into(),
        format!("{0}:{0}", spec.temp_root.display()),
        "--workdir".into(),
        ctx.workspace.display().to_string(),
    ];
    let mut names: Vec<String> = env.keys().cloned().collect();
    names.extend(crate::runner_env::default_variable_names());
    names.sort();
    names.dedup();
    for name in names.into_iter().filter(|n| n != "PATH" && n != "HOME") {
        docker_args.push("--env".into());
        docker_args.push(name);
    }
    if !entrypoint.is_empty() {
        docker_args.push("--entrypoint".into());
        docker_args.push(entrypoint.into());
    }
    docker_args.push(image.into());
    docker_args.extend(args.iter().cloned());
    docker_args
}

/// Runs the client as the step's process (its output, limits and
/// cancellation as for any step).
fn run_client(
    ctx: &StepContext,
    state: &mut JobState,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    engine: &Engine,
    args: Vec<String>,
) -> StepResult {
    let mut env = env.clone();
    env.extend(engine.client_env());
    let contexts = state.contexts.clone();
    let host = RunHost {
        contexts: &contexts,
        status: Status::Step {
            failed: state.failed,
            cancelled: false,
        },
        workspace: ctx.workspace,
    };
    crate::script_step::run_program(
        ctx,
        state,
        &host,
        &env,
        limits,
        (&engine.program.display().to_string(), args),
    )
}
