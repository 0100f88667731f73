//! `actions/checkout`, natively: the job's workspace already is the
//! repository as the run sees it, so checkout has little left to do. It
//! places a copy at `path:`, checks out a `ref:` that exists locally, and
//! says what it cannot honour (nothing is fetched).

use indexmap::IndexMap;

use crate::events::Outcome;
use crate::job::JobState;
use crate::run_spec::Isolation;
use crate::step::{StepContext, StepResult};

pub(crate) fn run(
    ctx: &StepContext,
    state: &mut JobState,
    inputs: &IndexMap<String, String>,
) -> StepResult {
    let input = |name: &str| super::input(inputs, name);
    let shared = ctx.shared;
    let say = |line: &str| shared.system_line(ctx.key, Some(ctx.index), line);
    let github = state
        .contexts
        .get("github")
        .cloned()
        .unwrap_or(sluice_expr::Value::Null);
    let field = |name: &str| {
        github
            .get(name)
            .map(|v| v.to_display_string().into_owned())
            .unwrap_or_default()
    };
    if let Some(repository) = input("repository")
        && !repository.eq_ignore_ascii_case(&field("repository"))
    {
        return StepResult::error(
            ctx,
            &format!(
                "checking out another repository ({repository}) needs the network, which Sluice does not use; clone it in a `run:` step, or vendor what you need"
            ),
        );
    }
    for (name, why) in [
        ("token", "nothing is fetched, so no token is needed"),
        ("ssh-key", "nothing is fetched, so no key is needed"),
        (
            "sparse-checkout",
            "the whole repository is in the workspace",
        ),
    ] {
        if input(name).is_some() {
            say(&format!("notice: checkout `{name}` is not used: {why}"));
        }
    }
    if let Some(depth) = input("fetch-depth").filter(|d| d != "0") {
        say(&format!(
            "notice: checkout `fetch-depth: {depth}` is not honoured: the repository's whole local history is available"
        ));
    }
    if input("submodules").is_some_and(|s| s != "false") {
        say("notice: submodules are as they are in your working tree (nothing is fetched)");
    }
    let in_place = shared.spec.isolation == Isolation::InPlace;
    let mut dir = ctx.workspace.to_path_buf();
    if let Some(path) = input("path").filter(|p| p != "." && p != "./") {
        if in_place {
            say(&format!(
                "notice: checkout `path: {path}` is not honoured with --in-place: the working tree is the checkout"
            ));
        } else {
            dir = ctx.workspace.join(&path);
            let Some(Ok(source)) = shared.snapshot_source.get() else {
                return StepResult::error(
                    ctx,
                    "the run's snapshot of the repository is not available",
                );
            };
            if let Err(e) = state.ensure_dirs(ctx.shared) {
                return StepResult::error(ctx, &e);
            }
            let manifest = state.temp.join(format!("checkout-{}.manifest", ctx.index));
            match source.copy_to(&dir, &manifest) {
                Ok(stats) => say(&format!(
                    "placed the repository at {path} ({} files)",
                    stats.files
                )),
                Err(e) => {
                    return StepResult::error(
                        ctx,
                        &format!("cannot place the repository at {path}: {e}"),
                    );
                }
            }
        }
    }
    let mut sha = field("sha");
    if let Some(wanted) = input("ref") {
        if in_place {
            say(&format!(
                "notice: checkout `ref: {wanted}` is not honoured with --in-place: the working tree is used as it is"
            ));
        } else {
            match check_out(&dir, &wanted) {
                Ok(commit) => {
                    say(&format!(
                        "checked out {wanted} ({})",
                        &commit[..commit.len().min(12)]
                    ));
                    sha = commit;
                }
                Err(e) => return StepResult::error(ctx, &e),
            }
        }
    }
    let mut result = StepResult::outcome(Outcome::Success);
    result
        .outputs
        .insert("ref".into(), input("ref").unwrap_or_else(|| field("ref")));
    result.outputs.insert("commit".into(), sha);
    result
}

/// Checks out `wanted` (a branch, tag or sha known locally) in `dir`.
fn check_out(dir: &std::path::Path, wanted: &str) -> Result<String, String> {
    let git = |args: &[&str]| crate::git::git(dir, args).map_err(|e| e.to_string());
    let candidates = [
        wanted.to_string(),
        format!("origin/{wanted}"),
        format!("refs/tags/{wanted}"),
    ];
    let commit = candidates
        .iter()
        .find_map(|c| git(&["rev-parse", "--verify", "--quiet", &format!("{c}^{{commit}}")]).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            format!("ref {wanted} is not in the local repository; Sluice does not fetch: fetch it into your clone first")
        })?;
    git(&["checkout", "--quiet", "--force", "--detach", &commit])?;
    git(&["clean", "-ffdqx"])?;
    Ok(commit)
}
