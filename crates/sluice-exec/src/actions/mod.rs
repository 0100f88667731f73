//! `uses:` steps. Sluice runs local actions (`./path`), vendored copies of
//! remote ones (`.sluice/actions/OWNER/REPO@REF`), the common actions
//! natively (`cache`, `checkout`, the setup actions, artifacts; each can
//! be turned off with `native-actions`), and any other remote action
//! fetched from the actions server ([`crate::remote`]), after checking it
//! against `allowed-actions`.

pub(crate) mod artifact_name;
mod artifacts;
mod benchmark_action;
mod cache;
mod checkout;
mod coverage_upload;
mod deploy;
mod docker_action;
mod docker_build;
mod local;
mod retry;
mod test_report;
mod toolchain;

use std::path::PathBuf;

use indexmap::IndexMap;
use sluice_workflow::Token;

use crate::eval_host::{RunHost, Status};
use crate::events::CancelLevel;
use crate::events::Outcome;
use crate::events::{Event, LogLevel, now};
use crate::job::JobState;
use crate::remote::{Origin, RemoteError, RemoteRef, RemoteStore};
use crate::run_spec::Shared;
use crate::step::{StepContext, StepLimits, StepResult};

pub(crate) use artifacts::RunArtifact;
pub use artifacts::{ARTIFACT_KIND, remove_expired_artifacts};
pub(crate) use cache::PostSave;
pub(crate) use local::{PostNode, run_pre_steps};

/// Where vendored copies of remote actions live, in the repository.
pub const VENDOR_DIR: &str = ".sluice/actions";

/// Which actions run natively rather than fetched (`native-actions` in
/// sluice.toml: `false` fetches them all; a table turns single ones on or
/// off, e.g. `"actions/setup-node" = false`).
#[derive(Debug, Clone)]
pub struct NativeActions {
    default: bool,
    /// Lower-cased action names (`owner/repo[/path]`).
    overrides: std::collections::HashMap<String, bool>,
}

impl Default for NativeActions {
    fn default() -> Self {
        NativeActions::new(true, std::iter::empty())
    }
}

impl NativeActions {
    pub fn new(default: bool, overrides: impl IntoIterator<Item = (String, bool)>) -> Self {
        NativeActions {
            default,
            overrides: overrides
                .into_iter()
                .map(|(name, on)| (name.to_ascii_lowercase(), on))
                .collect(),
        }
    }

    /// Whether `action` (lower-cased, without `@ref`) runs natively when
    /// Sluice has a native version of it.
    pub fn enabled(&self, action: &str) -> bool {
        self.overrides.get(action).copied().unwrap_or(self.default)
    }

    /// Whether `uses` (`owner/repo[/path]@ref`) runs natively: Sluice has
    /// a native version and it is not turned off.
    pub fn runs_natively(&self, uses: &str) -> bool {
        let action = uses
            .split('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        NATIVE.contains(&action.as_str()) && self.enabled(&action)
    }
}

/// A step that runs when the job ends.
pub(crate) enum Post {
    CacheSave(PostSave),
    Node(PostNode),
}

impl Post {
    /// The step that registered it.
    pub fn step(&self) -> usize {
        match self {
            Post::CacheSave(save) => save.step,
            Post::Node(node) => node.step,
        }
    }

    /// Whether it runs now; `None` (skip silently) when it cannot be
    /// decided.
    pub fn should_run(&self, ctx: &StepContext, state: &JobState) -> Option<bool> {
        let cancelled = (ctx.cancel_level)() != CancelLevel::None;
        match self {
            Post::CacheSave(save) => Some(save.always || (!state.failed && !cancelled)),
            Post::Node(node) => {
                let host = RunHost {
                    contexts: &state.contexts,
                    status: Status::Step {
                        failed: state.failed,
                        cancelled,
                    },
                    workspace: ctx.workspace,
                };
                match host.condition(&node.condition) {
                    Ok(run) => Some(run),
                    Err(message) => {
                        ctx.shared.system_message(
                            ctx.key,
                            Some(ctx.index),
                            LogLevel::Error,
                            &format!("post-if: {message}"),
                        );
                        None
                    }
                }
            }
        }
    }

    pub fn run(&self, ctx: &StepContext, state: &mut JobState) -> Outcome {
        match self {
            Post::CacheSave(save) => {
                cache::save(ctx, &save.request);
                Outcome::Success
            }
            Post::Node(node) => local::run_post(ctx, state, node),
        }
    }
}

/// Runs a `uses:` step.
pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    host: &RunHost,
    env: &IndexMap<String, String>,
    limits: &StepLimits,
    uses: &str,
    with: &IndexMap<String, Token>,
) -> StepResult {
    let mut inputs = IndexMap::new();
    for (name, token) in with {
        match host.string(token) {
            Ok(value) => {
                inputs.insert(name.to_ascii_lowercase(), value);
            }
            Err(message) => return StepResult::error(ctx, &format!("with.{name}: {message}")),
        }
    }
    if uses.starts_with("./") || uses.starts_with("../") {
        let dir = local_dir(ctx.workspace, uses);
        return local::run(ctx, state, host, env, limits, uses, &dir, &inputs);
    }
    if let Some(image) = uses.strip_prefix("docker://") {
        return docker_action::run_image_step(ctx, state, env, limits, image, &inputs);
    }
    let (action, version) = match uses.split_once('@') {
        Some((action, version)) => (action.to_ascii_lowercase(), version),
        None => (uses.to_ascii_lowercase(), ""),
    };
    // A vendored copy wins over the native implementation: it is what the
    // user chose to run.
    if let Some(dir) = vendored(ctx, uses) {
        return local::run(ctx, state, host, env, limits, uses, &dir, &inputs);
    }
    let remote = ctx.shared.spec.remote.as_deref();
    if let Some(remote) = remote
        && let Ok(reference) = RemoteRef::parse(uses)
        && !remote.settings().allowed.allows(&reference)
    {
        let refused = RemoteError::NotAllowed {
            reference: uses.to_string(),
            allowed: remote.settings().allowed.describe(),
        };
        return StepResult::error(ctx, &refused.to_string());
    }
    if ctx.shared.spec.native_actions.enabled(&action) {
        let native = match action.as_str() {
            "actions/cache" => Some(cache::run(
                ctx,
                state,
                host,
                &inputs,
                version,
                cache::Mode::RestoreThenSave,
            )),
            "actions/cache/restore" => Some(cache::run(
                ctx,
                state,
                host,
                &inputs,
                version,
                cache::Mode::RestoreOnly,
            )),
            "actions/cache/save" => Some(cache::save_step(ctx, host, &inputs)),
            "actions/checkout" => Some(checkout::run(ctx, state, &inputs)),
            "actions/setup-node"
            | "actions/setup-python"
            | "actions/setup-go"
            | "actions/setup-java"
            | "dtolnay/rust-toolchain"
            | "actions-rs/toolchain" => Some(toolchain::run(ctx, state, &action, version, &inputs)),
            "actions/upload-artifact" => Some(artifacts::upload(ctx, &inputs, version)),
            "actions/download-artifact" => Some(artifacts::download(ctx, &inputs)),
            "docker/setup-buildx-action" => Some(docker_build::setup_buildx(ctx)),
            "docker/login-action" => Some(docker_build::login(ctx, &inputs)),
            "docker/metadata-action" => Some(docker_build::metadata(ctx, &inputs)),
            "docker/build-push-action" => Some(docker_build::build_push(ctx, &inputs)),
            "dorny/test-reporter" => Some(test_report::dorny(ctx, &inputs)),
            "enricomi/publish-unit-test-result-action"
            | "enricomi/publish-unit-test-result-action/linux"
            | "enricomi/publish-unit-test-result-action/composite" => {
                Some(test_report::publish_unit_test_result(ctx, &inputs))
            }
            "mikepenz/action-junit-report" => Some(test_report::action_junit_report(ctx, &inputs)),
            "nick-fields/retry" => Some(retry::run(ctx, state, host, env, limits, &inputs)),
            "codecov/codecov-action" => Some(coverage_upload::codecov(ctx, &inputs)),
            "coverallsapp/github-action" => Some(coverage_upload::coveralls(ctx, &inputs)),
            "benchmark-action/github-action-benchmark" => Some(benchmark_action::run(ctx, &inputs)),
            "sluice/deploy" => Some(deploy::run(ctx, state, host, env, limits, &inputs)),
            _ => None,
        };
        if let Some(result) = native {
            return result;
        }
    }
    match remote {
        Some(_) => match fetched_action_dir(ctx, uses) {
            Ok(dir) => local::run(ctx, state, host, env, limits, uses, &dir, &inputs),
            Err(error) => StepResult::error(ctx, &format!("`uses: {uses}`: {error}")),
        },
        None => StepResult::error(
            ctx,
            &format!(
                "`uses: {uses}`: remote actions are not fetched in this run (no cache to keep them in); vendor a copy at {VENDOR_DIR}/{}@{version}",
                split_reference(&action).0
            ),
        ),
    }
}

/// The actions Sluice has a native version of.
const NATIVE: &[&str] = &[
    "actions/cache",
    "actions/cache/restore",
    "actions/cache/save",
    "actions/checkout",
    "actions/setup-node",
    "actions/setup-python",
    "actions/setup-go",
    "actions/setup-java",
    "dtolnay/rust-toolchain",
    "actions-rs/toolchain",
    "actions/upload-artifact",
    "actions/download-artifact",
    "docker/setup-buildx-action",
    "docker/login-action",
    "docker/metadata-action",
    "docker/build-push-action",
    "dorny/test-reporter",
    "enricomi/publish-unit-test-result-action",
    "enricomi/publish-unit-test-result-action/linux",
    "enricomi/publish-unit-test-result-action/composite",
    "mikepenz/action-junit-report",
    "nick-fields/retry",
    "codecov/codecov-action",
    "coverallsapp/github-action",
    "benchmark-action/github-action-benchmark",
    "sluice/deploy",
];

/// Resolves (and fetches) the remote actions the run's jobs use directly,
/// all at once and in parallel, as the run starts: a tag then means one
/// commit for the whole run, and the fetches overlap. Failures are left
/// for the steps to report.
pub(crate) fn prefetch(shared: &Shared) {
    let Some(remote) = shared.spec.remote.as_deref() else {
        return;
    };
    let spec = shared.spec;
    let mut wanted: Vec<RemoteRef> = Vec::new();
    for (id, job) in &spec.workflow.jobs {
        if spec.selected_jobs.as_ref().is_some_and(|s| !s.contains(id)) {
            continue;
        }
        let sluice_workflow::JobBody::Steps(steps) = &job.body else {
            continue;
        };
        for step in steps {
            let sluice_workflow::StepAction::Uses { uses, .. } = &step.action else {
                continue;
            };
            let uses = &uses.value;
            let native = spec.native_actions.runs_natively(uses);
            if native || uses.contains("${{") || vendored_in(&spec.workspace, uses).is_some() {
                continue;
            }
            if let Ok(reference) = RemoteRef::parse(uses)
                && !wanted.iter().any(|w| {
                    w.repository().eq_ignore_ascii_case(&reference.repository())
                        && w.git_ref == reference.git_ref
                })
            {
                wanted.push(reference);
            }
        }
    }
    record_called_workflows(shared, remote);
    // A few at a time: each is a `git` process or two.
    for batch in wanted.chunks(8) {
        std::thread::scope(|scope| {
            for reference in batch {
                scope.spawn(move || {
                    let _ = remote.get(reference);
                });
            }
        });
    }
}

/// The commits the run's remote reusable workflows came from (they were
/// fetched when the workflows were read, so this asks the store's memory).
fn record_called_workflows(shared: &Shared, remote: &RemoteStore) {
    for planned in &shared.spec.plan.jobs {
        let Some(call) = &planned.call else {
            continue;
        };
        let Ok(reference) = RemoteRef::parse(&call.uses) else {
            continue;
        };
        if let Ok(fetched) = remote.get(&reference) {
            shared.emit(Event::ActionResolved {
                job: planned.id.clone(),
                step: None,
                uses: call.uses.clone(),
                commit: fetched.commit.clone(),
                origin: fetched.origin.as_str().to_string(),
                at: now(),
            });
        }
    }
}

/// The directory of a fetched action, put in place in the run's scratch
/// directory.
fn fetched_action_dir(ctx: &StepContext, uses: &str) -> Result<PathBuf, RemoteError> {
    let (dir, fetched) = fetched_dir(ctx, uses)?;
    let reference = &fetched.reference;
    ctx.shared.emit(Event::ActionResolved {
        job: ctx.key.clone(),
        step: Some(ctx.index),
        uses: uses.to_string(),
        commit: fetched.commit.clone(),
        origin: fetched.origin.as_str().to_string(),
        at: now(),
    });
    let short = &fetched.commit[..fetched.commit.len().min(12)];
    let say = |line: String| ctx.shared.system_line(ctx.key, Some(ctx.index), &line);
    say(format!(
        "{uses}: commit {short} ({})",
        match fetched.origin {
            Origin::Fetched => "fetched",
            Origin::Cached => "from the cache",
            Origin::Offline => "from the cache; the actions server cannot be reached",
        }
    ));
    if !reference.is_pinned() {
        say(format!(
            "warning: {uses} is pinned to `{}`, which can move; pin its full commit SHA ({}) to run exactly this code",
            reference.git_ref, fetched.commit
        ));
    }
    Ok(dir)
}

/// A fetched action's directory in the run's scratch directory, and what
/// was fetched (the run's resolution: the same commit every time).
pub(crate) fn fetched_dir(
    ctx: &StepContext,
    uses: &str,
) -> Result<(PathBuf, std::sync::Arc<crate::remote::Fetched>), RemoteError> {
    let remote = ctx
        .shared
        .spec
        .remote
        .as_deref()
        .ok_or(RemoteError::Local {
            action: "fetch actions",
            reason: "this run has no cache to keep them in".into(),
        })?;
    let reference = RemoteRef::parse(uses)?;
    let fetched = remote.get(&reference)?;
    ctx.shared
        .prepare_for_processes()
        .map_err(|reason| RemoteError::Local {
            action: "prepare the run's scratch directory",
            reason,
        })?;
    let root = remote.place(&fetched, &ctx.shared.spec.temp_root.join("_actions"))?;
    Ok((root.join(&reference.path), fetched))
}

/// The directory of a local action (`./x`, `../x`), relative to the
/// workspace, without `.` parts.
pub(crate) fn local_dir(workspace: &std::path::Path, uses: &str) -> PathBuf {
    normalize(&workspace.join(uses))
}

/// Resolves `.` and `..` without touching the file system.
pub(crate) fn normalize(path: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// An input's value, trimmed; `None` when absent or empty.
pub(crate) fn input(inputs: &IndexMap<String, String>, name: &str) -> Option<String> {
    inputs
        .get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A multi-line input's non-empty lines, trimmed (`path:`, `restore-keys:`).
pub(crate) fn input_lines(inputs: &IndexMap<String, String>, name: &str) -> Vec<String> {
    inputs
        .get(name)
        .map(|v| {
            v.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// `owner/repo/sub/dir` → (`owner/repo`, `sub/dir`).
fn split_reference(action: &str) -> (String, String) {
    let mut parts = action.splitn(3, '/');
    let owner = parts.next().unwrap_or_default();
    let repo = parts.next().unwrap_or_default();
    (
        format!("{owner}/{repo}"),
        parts.next().unwrap_or_default().to_string(),
    )
}

/// The vendored copy of `owner/repo[/path]@ref`, when there is one.
fn vendored(ctx: &StepContext, uses: &str) -> Option<PathBuf> {
    vendored_in(&ctx.shared.spec.workspace, uses)
}

/// The vendored copy of `uses` in the repository at `workspace`, if any.
pub fn vendored_in(workspace: &std::path::Path, uses: &str) -> Option<PathBuf> {
    let (action, version) = uses.split_once('@')?;
    let (repo, path) = split_reference(action);
    let dir = workspace
        .join(VENDOR_DIR)
        .join(format!("{repo}@{version}"))
        .join(path);
    (dir.join("action.yml").is_file() || dir.join("action.yaml").is_file()).then_some(dir)
}
