//! Commits a server runs: fetched from the repository's own remote,
//! kept from garbage collection while queued, read without a checkout,
//! and checked out into a private directory for the run.
//!
//! Every ref and commit id reaching these functions was checked for
//! shape by the caller; each is still passed after `--` or as a value
//! git cannot take for an option.

use std::path::Path;
use std::process::{Command, Stdio};

use super::{GitError, git};

/// Whether `sha` names a commit the repository has.
pub fn has_commit(root: &Path, sha: &str) -> bool {
    git(
        root,
        &[
            "cat-file",
            "-e",
            "--end-of-options",
            &format!("{sha}^{{commit}}"),
        ],
    )
    .is_ok()
}

/// The commit `rev` names, if any.
pub fn resolve(root: &Path, rev: &str) -> Option<String> {
    git(
        root,
        &[
            "rev-parse",
            "-q",
            "--verify",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .ok()
    .filter(|sha| !sha.is_empty())
}

/// Fetches `refspecs` from `remote` (a configured remote's name).
pub fn fetch(root: &Path, remote: &str, refspecs: &[&str]) -> Result<(), GitError> {
    let mut args = vec![
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        remote,
    ];
    args.extend_from_slice(refspecs);
    git(root, &args).map(|_| ())
}

/// Makes sure the repository has commit `sha`, fetching `git_ref` (and,
/// failing that, the commit itself) from `remote` when it does not.
pub fn ensure_commit(root: &Path, remote: &str, git_ref: &str, sha: &str) -> Result<(), GitError> {
    if has_commit(root, sha) {
        return Ok(());
    }
    let tracking = format!("+{git_ref}:refs/sluice/fetched/{sha}");
    let fetched = fetch(root, remote, &[&tracking]).and_then(|()| {
        if has_commit(root, sha) {
            Ok(())
        } else {
            fetch(root, remote, &[sha])
        }
    });
    fetched?;
    if has_commit(root, sha) {
        Ok(())
    } else {
        Err(GitError::Failed {
            args: format!("fetch {remote} {git_ref}"),
            stderr: format!("the remote does not have commit {sha}"),
        })
    }
}

/// Keeps commit `sha` reachable (a queued run needs it after a fetch
/// moved the branch on) under `refs/sluice/commits/`; the ref a fetch
/// made for it goes.
pub fn keep_commit(root: &Path, sha: &str) -> Result<(), GitError> {
    git(
        root,
        &["update-ref", &format!("refs/sluice/commits/{sha}"), sha],
    )?;
    let _ = git(
        root,
        &["update-ref", "-d", &format!("refs/sluice/fetched/{sha}")],
    );
    Ok(())
}

/// Lets commit `sha` go (no queued or running run needs it any more).
pub fn forget_commit(root: &Path, sha: &str) {
    for kind in ["commits", "fetched"] {
        let _ = git(
            root,
            &["update-ref", "-d", &format!("refs/sluice/{kind}/{sha}")],
        );
    }
}

/// The tree of HEAD's commit when the working tree is exactly that
/// commit (no change to a tracked file); `None` otherwise.
pub fn clean_tree(root: &Path) -> Option<String> {
    let status = git(root, &["status", "--porcelain", "--untracked-files=no"]).ok()?;
    if !status.is_empty() {
        return None;
    }
    resolve_tree(root, "HEAD")
}

/// The tree of commit `rev`.
pub fn resolve_tree(root: &Path, rev: &str) -> Option<String> {
    git(
        root,
        &[
            "rev-parse",
            "-q",
            "--verify",
            "--end-of-options",
            &format!("{rev}^{{tree}}"),
        ],
    )
    .ok()
    .filter(|sha| !sha.is_empty())
}

/// The files that differ between two commits.
pub fn changed_between(root: &Path, from: &str, to: &str) -> Result<Vec<String>, GitError> {
    names(&git(root, &["diff", "--name-only", "-z", from, to, "--"])?)
}

/// The files commit `sha` changed (all of its files for a root commit).
pub fn changed_by(root: &Path, sha: &str) -> Result<Vec<String>, GitError> {
    match resolve(root, &format!("{sha}^")) {
        Some(parent) => changed_between(root, &parent, sha),
        None => names(&git(root, &["ls-tree", "-r", "-z", "--name-only", sha])?),
    }
}

fn names(text: &str) -> Result<Vec<String>, GitError> {
    Ok(text
        .split('\0')
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect())
}

/// The subject, author name and committer date (ISO 8601) of `sha`.
pub fn describe(root: &Path, sha: &str) -> Result<(String, String, String), GitError> {
    let text = git(root, &["log", "-1", "--format=%s%x00%an%x00%cI", sha, "--"])?;
    let mut parts = text.split('\0');
    let mut next = || parts.next().unwrap_or("").to_owned();
    Ok((next(), next(), next()))
}

/// Writes `path` (a directory) of commit `sha` into `dest`, without a
/// checkout. A commit without that directory writes nothing.
pub fn export_dir(root: &Path, sha: &str, path: &str, dest: &Path) -> Result<(), GitError> {
    if git(root, &["cat-file", "-e", &format!("{sha}:{path}")]).is_err() {
        return Ok(());
    }
    let mut archive = Command::new("git")
        .args(["archive", "--format=tar", sha, "--", path])
        .current_dir(root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(GitError::Spawn)?;
    let stdout = archive.stdout.take().ok_or_else(|| GitError::Failed {
        args: "archive".into(),
        stderr: "no output".into(),
    })?;
    let untar = Command::new("tar")
        .args(["-x", "--no-same-owner", "-C"])
        .arg(dest)
        .stdin(stdout)
        .output()
        .map_err(GitError::Spawn)?;
    let archived = archive.wait_with_output().map_err(GitError::Spawn)?;
    if !archived.status.success() || !untar.status.success() {
        return Err(GitError::Failed {
            args: format!("archive {sha} -- {path}"),
            stderr: format!(
                "{}{}",
                String::from_utf8_lossy(&archived.stderr).trim(),
                String::from_utf8_lossy(&untar.stderr).trim()
            ),
        });
    }
    Ok(())
}

/// Checks commit `sha` out into the empty directory `dest`, as a clone
/// that borrows `root`'s objects, on `branch` when the run is for one
/// (so that git in the steps sees the branch), else detached; its
/// `origin` is `root`'s, so the repository's name reads the same.
pub fn checkout(root: &Path, sha: &str, branch: Option<&str>, dest: &Path) -> Result<(), GitError> {
    let source = root.to_string_lossy().into_owned();
    let target = dest.to_string_lossy().into_owned();
    git(
        root,
        &[
            "clone",
            "--quiet",
            "--shared",
            "--no-checkout",
            "--",
            &source,
            &target,
        ],
    )?;
    match branch {
        Some(branch) => git(dest, &["checkout", "--quiet", "-B", branch, sha, "--"])?,
        None => git(dest, &["checkout", "--quiet", "--detach", sha, "--"])?,
    };
    if let Ok(url) = git(root, &["remote", "get-url", "origin"]) {
        git(dest, &["remote", "set-url", "origin", &url])?;
    }
    Ok(())
}

/// The best common ancestor of `a` and `b`.
pub fn merge_base(root: &Path, a: &str, b: &str) -> Option<String> {
    git(root, &["merge-base", "--end-of-options", a, b])
        .ok()
        .filter(|sha| !sha.is_empty())
}

/// The working tree's changes since commit `base`, as a unified diff
/// without context and without the `a/` and `b/` prefixes (committed and
/// uncommitted changes alike; files git does not track are not in it).
pub fn diff_since(root: &Path, base: &str) -> Result<String, GitError> {
    git(
        root,
        &[
            "-c",
            "core.quotePath=false",
            "diff",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--no-renames",
            "--no-prefix",
            base,
            "--",
        ],
    )
}

/// Where symbolic ref `name` points (`refs/remotes/origin/HEAD` →
/// `origin/main`), when it is one.
pub fn resolve_symbolic(root: &Path, name: &str) -> Option<String> {
    git(root, &["symbolic-ref", "-q", "--short", name])
        .ok()
        .filter(|target| !target.is_empty())
}

/// The default branch: where `origin/HEAD` points, else `main` or `master`.
pub fn default_branch(root: &Path) -> Option<String> {
    if let Some(target) = resolve_symbolic(root, "refs/remotes/origin/HEAD") {
        return Some(target);
    }
    ["main", "master", "origin/main", "origin/master"]
        .into_iter()
        .find(|name| resolve(root, name).is_some())
        .map(str::to_string)
}

/// Commit times (seconds since the epoch) of the commits `to` has and
/// `from` has not (all of `to`'s history without `from`), newest first,
/// at most `limit`: what a deploy of `to` ships after one of `from`.
pub fn commit_times(
    root: &Path,
    from: Option<&str>,
    to: &str,
    limit: usize,
) -> Result<Vec<u64>, GitError> {
    let range = match from {
        Some(from) if has_commit(root, from) => format!("{from}..{to}"),
        _ => to.to_owned(),
    };
    let limit = format!("--max-count={limit}");
    let text = git(
        root,
        &[
            "log",
            "--format=%ct",
            &limit,
            "--end-of-options",
            &range,
            "--",
        ],
    )?;
    Ok(text.lines().filter_map(|l| l.trim().parse().ok()).collect())
}
