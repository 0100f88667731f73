//! What Sluice needs to know about the local git repository: where it is,
//! the commit, branch and remote, and which files a push would change.

pub mod commits;
mod config;
mod head_commit;
pub(crate) mod layout;

use std::path::{Path, PathBuf};
use std::process::Command;

pub use config::{GitConfig, Unmodelled, parse as parse_config};
use layout::{Head, Layout};

/// The all-zero sha GitHub uses for "no commit" (e.g. `before` of a new branch).
pub const ZERO_SHA: &str = "0000000000000000000000000000000000000000";

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "{dir} is not inside a git repository (run `git init` there, or pass a path inside one)"
    )]
    NotARepository { dir: PathBuf },
    #[error("could not run git: {0} (is git installed and on PATH?)")]
    Spawn(std::io::Error),
    #[error("`git {args}` failed: {stderr}")]
    Failed { args: String, stderr: String },
}

/// The state of a repository as a run sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoState {
    /// The top of the working tree.
    pub root: PathBuf,
    /// The commit checked out, or [`ZERO_SHA`] before the first commit.
    pub sha: String,
    /// The current branch; `None` when HEAD is detached.
    pub branch: Option<String>,
    /// The branch other branches are compared with (origin's HEAD, else
    /// `init.defaultBranch`, else `main`).
    pub default_branch: String,
    /// `owner/name` from the `origin` remote, else `local/<directory name>`.
    pub repository: String,
    /// Who is running: git's `user.name`, else `$USER`.
    pub actor: String,
    /// The commit a push would start from: the upstream branch's commit when
    /// there is one, else HEAD's parent, else [`ZERO_SHA`].
    pub before: String,
    /// Files a push of the current state would change: commits since
    /// `before` plus uncommitted, non-ignored changes. `None` when unknown.
    pub changed_files: Option<Vec<String>>,
    /// The subject line and author of HEAD, for the event payload.
    pub head_message: String,
    pub head_author: String,
    pub head_timestamp: String,
}

/// What [`read_state`] should do beyond the basics.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReadOptions<'a> {
    /// A directory where facts about commits may be remembered between
    /// runs (Sluice's state directory), sparing a git process.
    pub memo_dir: Option<&'a Path>,
    /// Whether to find [`RepoState::changed_files`]: it costs `git status`
    /// and `git diff`, and only path filters need it.
    pub changed_files: bool,
}

/// Runs git in `dir` and returns its trimmed standard output.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, GitError> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_OPTIONAL_LOCKS", "0")
        .output()
        .map_err(GitError::Spawn)?;
    if !output.status.success() {
        return Err(GitError::Failed {
            args: args.join(" "),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
        });
    }
    Ok(String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_string())
}

fn git_opt(dir: &Path, args: &[&str]) -> Option<String> {
    git(dir, args).ok().filter(|s| !s.is_empty())
}

/// The top of the repository that contains `dir`.
pub fn find_root(dir: &Path) -> Result<PathBuf, GitError> {
    if let Some(layout) = Layout::find(dir) {
        return Ok(layout.root);
    }
    match git(dir, &["rev-parse", "--show-toplevel"]) {
        Ok(root) => Ok(PathBuf::from(root)),
        Err(GitError::Failed { .. }) => Err(GitError::NotARepository {
            dir: dir.to_path_buf(),
        }),
        Err(e) => Err(e),
    }
}

/// Where HEAD and its neighbours point, and the settings that name things.
struct Refs {
    /// `None` before the first commit.
    sha: Option<String>,
    branch: Option<String>,
    /// The commit of the current branch's upstream, when it has one.
    upstream_sha: Option<String>,
    /// The branch `origin/HEAD` points at.
    origin_head: Option<String>,
    config: GitConfig,
}

/// Reads the repository's state: from its files when they are in the plain
/// layout (no git process at all on a re-run of the same commit), else by
/// asking git.
pub fn read_state(root: &Path, options: &ReadOptions) -> Result<RepoState, GitError> {
    let refs = match Layout::find(root).and_then(|layout| refs_from_files(&layout)) {
        Some(refs) => refs,
        None => refs_from_git(root)?,
    };
    let commit = refs
        .sha
        .as_ref()
        .and_then(|sha| head_commit::read(root, Some(sha), options.memo_dir));
    let has_commits = commit.is_some();
    let parent = commit.as_ref().and_then(|c| c.parents.first().cloned());
    let before = match (has_commits, refs.upstream_sha) {
        (false, _) => ZERO_SHA.to_string(),
        (true, Some(upstream)) => upstream,
        (true, None) => parent.unwrap_or_else(|| ZERO_SHA.to_string()),
    };
    let changed_files = if options.changed_files {
        changed_files(root, has_commits, &before)
    } else {
        None
    };
    let config = &refs.config;
    let commit = commit.unwrap_or_default();
    Ok(RepoState {
        root: root.to_path_buf(),
        sha: if has_commits {
            commit.sha
        } else {
            ZERO_SHA.to_string()
        },
        branch: refs.branch,
        default_branch: refs
            .origin_head
            .or_else(|| config.get("init.defaultbranch").map(str::to_string))
            .unwrap_or_else(|| "main".to_string()),
        repository: config
            .get("remote.origin.url")
            .and_then(repository_from_url)
            .unwrap_or_else(|| {
                let dir = root
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("repository");
                format!("local/{dir}")
            }),
        actor: config
            .get("user.name")
            .map(str::to_string)
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "local".to_string()),
        before,
        changed_files,
        head_message: commit.subject,
        head_author: commit.author,
        head_timestamp: commit.timestamp,
    })
}

/// The refs from the repository's files; `None` when they cannot say.
fn refs_from_files(layout: &Layout) -> Option<Refs> {
    let (branch, sha) = match layout.head()? {
        Head::Branch(branch) => {
            let sha = layout.resolve(&format!("refs/heads/{branch}")).ok()?;
            (Some(branch), sha)
        }
        Head::Detached(sha) => (None, Some(sha)),
    };
    let config = GitConfig::read(layout).unwrap_or_else(|_| config_from_git(&layout.root));
    let upstream_sha = match &branch {
        Some(branch) => match upstream_ref(&config, branch) {
            Some(upstream) => layout.resolve(&upstream).ok()?,
            None => None,
        },
        None => None,
    };
    let origin_head = layout
        .symbolic_target("refs/remotes/origin/HEAD")
        .and_then(|target| {
            target
                .strip_prefix("refs/remotes/origin/")
                .map(str::to_string)
        });
    Some(Refs {
        sha,
        branch,
        upstream_sha,
        origin_head,
        config,
    })
}

/// The ref of `branch`'s upstream, as `branch.<name>.remote` and `.merge`
/// configure it (with the default fetch mapping to `refs/remotes/`).
fn upstream_ref(config: &GitConfig, branch: &str) -> Option<String> {
    let remote = config.get(&format!("branch.{branch}.remote"))?;
    let merge = config.get(&format!("branch.{branch}.merge"))?;
    if remote == "." {
        return Some(merge.to_string());
    }
    let name = merge.strip_prefix("refs/heads/")?;
    Some(format!("refs/remotes/{remote}/{name}"))
}

/// The refs as git reports them, its independent questions asked
/// concurrently.
fn refs_from_git(root: &Path) -> Result<Refs, GitError> {
    std::thread::scope(|scope| {
        let sha = scope.spawn(|| git_opt(root, &["rev-parse", "-q", "--verify", "HEAD"]));
        let branch = scope.spawn(|| git_opt(root, &["symbolic-ref", "-q", "--short", "HEAD"]));
        let upstream =
            scope.spawn(|| git_opt(root, &["rev-parse", "-q", "--verify", "@{upstream}"]));
        let origin_head = scope.spawn(|| {
            git_opt(
                root,
                &["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"],
            )
        });
        let config = config_from_git(root);
        // A failure here is the one that says whether git works at all.
        let toplevel = git(root, &["rev-parse", "--show-toplevel"]);
        let join = |handle: std::thread::ScopedJoinHandle<'_, Option<String>>| {
            handle.join().unwrap_or(None)
        };
        toplevel?;
        Ok(Refs {
            sha: join(sha),
            branch: join(branch),
            upstream_sha: join(upstream),
            origin_head: join(origin_head)
                .and_then(|b| b.strip_prefix("origin/").map(str::to_string)),
            config,
        })
    })
}

/// The settings `read_state` needs, from `git config` (when the files use
/// something the reader does not model, such as includes).
fn config_from_git(root: &Path) -> GitConfig {
    let text = git(root, &["config", "-z", "--get-regexp", CONFIG_KEYS]).unwrap_or_default();
    GitConfig::from_entries(
        text.split('\0')
            .filter_map(|entry| entry.split_once('\n'))
            .map(|(k, v)| (k.to_string(), v.to_string())),
    )
}

/// The git settings `read_state` needs, as one `--get-regexp`.
const CONFIG_KEYS: &str =
    r"^(init\.defaultbranch|user\.name|remote\.origin\.url|branch\..*\.(remote|merge))$";

/// Files a push of the current state would change: committed since
/// `before` (every file when there is no `before`) plus uncommitted,
/// non-ignored changes. `None` when git cannot tell.
fn changed_files(root: &Path, has_commits: bool, before: &str) -> Option<Vec<String>> {
    let (committed, uncommitted) = std::thread::scope(|scope| {
        let uncommitted = scope.spawn(|| {
            git(
                root,
                &["status", "--porcelain=v2", "-z", "--untracked-files=all"],
            )
        });
        let committed = committed_changes(root, has_commits, before);
        (committed, uncommitted.join().ok().and_then(Result::ok))
    });
    let mut files = committed?;
    files.extend(parse_status(&uncommitted?));
    files.sort();
    files.dedup();
    Some(files)
}

/// Files committed since `before` (every file when there is no `before`);
/// `None` when git cannot tell.
fn committed_changes(root: &Path, has_commits: bool, before: &str) -> Option<Vec<String>> {
    if !has_commits {
        return Some(Vec::new());
    }
    let list = if before == ZERO_SHA {
        git(root, &["ls-files", "-z"]).ok()?
    } else {
        git(root, &["diff", "--name-only", "-z", before, "HEAD"]).ok()?
    };
    Some(
        list.split('\0')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    )
}

/// The paths with uncommitted changes (staged, unstaged or untracked) in
/// what `git status --porcelain=v2 -z` says.
fn parse_status(text: &str) -> Vec<String> {
    let mut changed = Vec::new();
    let mut entries = text.split('\0');
    while let Some(entry) = entries.next() {
        if let Some(path) = entry.strip_prefix("? ") {
            changed.push(path.to_string());
        } else if entry.starts_with("1 ") {
            // `1 XY sub mH mI mW hH hI path`
            changed.extend(entry.splitn(9, ' ').nth(8).map(str::to_string));
        } else if entry.starts_with("2 ") {
            // `2 XY sub mH mI mW hH hI Xscore path`, then the original path.
            changed.extend(entry.splitn(10, ' ').nth(9).map(str::to_string));
            changed.extend(entries.next().map(str::to_string));
        } else if entry.starts_with("u ") {
            changed.extend(entry.splitn(11, ' ').nth(10).map(str::to_string));
        }
    }
    changed
}

/// Files changed between two commits (for pull requests: base...head).
pub fn diff_names(root: &Path, from: &str, to: &str) -> Result<Vec<String>, GitError> {
    let range = format!("{from}...{to}");
    let out = git(root, &["diff", "--name-only", "-z", &range])?;
    Ok(out
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect())
}

/// `owner/name` from a remote URL in any of git's forms.
pub fn repository_from_url(url: &str) -> Option<String> {
    let trimmed = url.trim().trim_end_matches('/').trim_end_matches(".git");
    // scp-like `git@host:owner/name` and URLs `https://host/owner/name`.
    let path = match trimmed.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p)?,
        None => trimmed.split_once(':').map(|(_, p)| p).unwrap_or(trimmed),
    };
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.len() < 2 {
        return None;
    }
    let name = parts.pop()?;
    let owner = parts.pop()?;
    Some(format!("{owner}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lists_changed_paths() {
        let hash = "1111111111111111111111111111111111111111";
        let text = format!(
            "# branch.oid abc\0# branch.head main\0# branch.upstream origin/main\0\
             1 .M N... 100644 100644 100644 {hash} {hash} src/a b.rs\0\
             2 R. N... 100644 100644 100644 {hash} {hash} R100 new.rs\0old.rs\0\
             ? notes.txt\0"
        );
        assert_eq!(
            parse_status(&text),
            ["src/a b.rs", "new.rs", "old.rs", "notes.txt"]
        );
    }

    fn run_git(dir: &Path, args: &[&str]) {
        let status = Command::new("git")
            .args(["-c", "user.name=T", "-c", "user.email=t@example.invalid"])
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "git {args:?}");
    }

    /// The files say what git says, loose refs and packed.
    #[test]
    fn reading_the_files_agrees_with_git() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        run_git(&root, &["init", "-q", "-b", "main"]);
        run_git(&root, &["config", "user.name", "Ada Lovelace"]);
        run_git(
            &root,
            &["remote", "add", "origin", "git@github.com:octo/app.git"],
        );
        run_git(&root, &["commit", "-q", "--allow-empty", "-m", "one"]);
        run_git(&root, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
        run_git(
            &root,
            &[
                "symbolic-ref",
                "refs/remotes/origin/HEAD",
                "refs/remotes/origin/main",
            ],
        );
        run_git(&root, &["checkout", "-q", "-b", "feature/x"]);
        run_git(&root, &["branch", "-q", "--set-upstream-to=origin/main"]);
        run_git(&root, &["commit", "-q", "--allow-empty", "-m", "two"]);
        for packed in [false, true] {
            if packed {
                run_git(&root, &["pack-refs", "--all"]);
            }
            let layout = Layout::find(&root).unwrap();
            let files = refs_from_files(&layout).unwrap();
            let git = refs_from_git(&root).unwrap();
            assert_eq!(files.sha, git.sha);
            assert!(files.sha.is_some());
            assert_eq!(files.branch.as_deref(), Some("feature/x"));
            assert_eq!(files.branch, git.branch);
            assert!(files.upstream_sha.is_some());
            assert_ne!(files.upstream_sha, files.sha);
            assert_eq!(files.upstream_sha, git.upstream_sha);
            assert_eq!(files.origin_head.as_deref(), Some("main"));
            assert_eq!(files.origin_head, git.origin_head);
            for key in ["user.name", "remote.origin.url", "branch.feature/x.merge"] {
                assert!(files.config.get(key).is_some(), "{key}");
                assert_eq!(files.config.get(key), git.config.get(key), "{key}");
            }
        }
        let state = read_state(&root, &ReadOptions::default()).unwrap();
        assert_eq!(state.repository, "octo/app");
        assert_eq!(state.actor, "Ada Lovelace");
        assert_eq!(state.default_branch, "main");
        assert_eq!(state.head_message, "two");
        assert_eq!(state.changed_files, None);
        let with_changes = read_state(
            &root,
            &ReadOptions {
                memo_dir: None,
                changed_files: true,
            },
        )
        .unwrap();
        assert_eq!(with_changes.before, state.before);
        assert_eq!(with_changes.changed_files, Some(Vec::new()));
    }

    #[test]
    fn repository_names_from_remote_urls() {
        for (url, expected) in [
            ("https://github.com/octo/app.git", Some("octo/app")),
            ("git@github.com:octo/app.git", Some("octo/app")),
            ("ssh://git@host:22/group/sub/app", Some("sub/app")),
            ("/srv/git/app.git", Some("git/app")),
            ("app", None),
        ] {
            assert_eq!(repository_from_url(url).as_deref(), expected, "{url}");
        }
    }
}
