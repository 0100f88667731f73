//! `uses:` steps. Sluice runs the common actions natively instead of
//! fetching their code (`cache`, `checkout`, the setup actions, artifacts),
//! runs local actions (`./path`) and vendored copies of remote ones
//! (`.sluice/actions/OWNER/REPO@REF`), and fails clearly on anything else:
//! nothing is fetched from the network.

pub(crate) mod artifact_name;
mod artifacts;
mod cache;
mod checkout;
mod local;
mod toolchain;

use std::path::PathBuf;

use indexmap::IndexMap;
use sluice_workflow::Token;

use crate::cancel::CancelLevel;
use crate::eval_host::{RunHost, Status};
use crate::events::Outcome;
use crate::job::JobState;
use crate::step::{StepContext, StepLimits, StepResult};

pub(crate) use artifacts::RunArtifact;
pub use artifacts::{ARTIFACT_KIND, remove_expired_artifacts};
pub(crate) use cache::PostSave;
pub(crate) use local::{PostNode, run_pre_steps};

/// Where vendored copies of remote actions live, in the repository.
pub const VENDOR_DIR: &str = ".sluice/actions";

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
                        ctx.shared.system_line(
                            ctx.key,
                            Some(ctx.index),
                            &format!("error: post-if: {message}"),
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
        return StepResult::error(
            ctx,
            &format!(
                "`uses: docker://{image}` needs a container engine, which Sluice does not use for steps; run the tool in a `run:` step"
            ),
        );
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
    match action.as_str() {
        "actions/cache" => cache::run(
            ctx,
            state,
            host,
            &inputs,
            version,
            cache::Mode::RestoreThenSave,
        ),
        "actions/cache/restore" => {
            cache::run(ctx, state, host, &inputs, version, cache::Mode::RestoreOnly)
        }
        "actions/cache/save" => cache::save_step(ctx, host, &inputs),
        "actions/checkout" => checkout::run(ctx, state, &inputs),
        "actions/setup-node"
        | "actions/setup-python"
        | "actions/setup-go"
        | "actions/setup-java"
        | "dtolnay/rust-toolchain"
        | "actions-rs/toolchain" => toolchain::run(ctx, state, &action, version, &inputs),
        "actions/upload-artifact" => artifacts::upload(ctx, &inputs, version),
        "actions/download-artifact" => artifacts::download(ctx, &inputs),
        _ => {
            let (repo, path) = split_reference(&action);
            let target = format!("{VENDOR_DIR}/{repo}@{version}");
            StepResult::error(
                ctx,
                &format!(
                    "`uses: {uses}`: Sluice does not fetch actions from the network, and this one has no native implementation. Vendor it: put a copy of the action's repository at the ref you use in {target}{} (e.g. `git clone --depth 1 --branch {version} https://github.com/{repo} {target}`), or replace the step with a `run:` step",
                    if path.is_empty() {
                        String::new()
                    } else {
                        format!(" (the action is in its {path}/ directory)")
                    },
                ),
            )
        }
    }
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
    let (action, version) = uses.split_once('@')?;
    let (repo, path) = split_reference(action);
    let dir = ctx
        .shared
        .spec
        .workspace
        .join(VENDOR_DIR)
        .join(format!("{repo}@{version}"))
        .join(path);
    (dir.join("action.yml").is_file() || dir.join("action.yaml").is_file()).then_some(dir)
}
