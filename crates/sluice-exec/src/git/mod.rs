//! What Sluice needs to know about the local git repository: where it is,
//! the commit, branch and remote, and which files a push would change.

use std::path::{Path, PathBuf};
use std::process::Command;

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
    match git(dir, &["rev-parse", "--show-toplevel"]) {
        Ok(root) => Ok(PathBuf::from(root)),
        Err(GitError::Failed { .. }) => Err(GitError::NotARepository {
            dir: dir.to_path_buf(),
        }),
        Err(e) => Err(e),
    }
}

/// Reads the repository's state. The independent questions go to git
/// concurrently: each git process costs about a millisecond, and planning
/// is meant to feel instant.
pub fn read_state(root: &Path) -> Result<RepoState, GitError> {
    let (status, config, log, origin_head) = std::thread::scope(|scope| {
        let status = scope.spawn(|| {
            git(
                root,
                &[
                    "status",
                    "--porcelain=v2",
                    "--branch",
                    "-z",
                    "--untracked-files=all",
                ],
            )
        });
        let config = scope.spawn(|| {
            git(root, &["config", "-z", "--get-regexp", CONFIG_KEYS]).unwrap_or_default()
        });
        let log = scope.spawn(|| {
            git(
                root,
                &["log", "-1", "--format=%H%x00%P%x00%s%x00%an%x00%aI"],
            )
            .ok()
        });
        let origin_head = scope.spawn(|| {
            git_opt(
                root,
                &["symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD"],
            )
        });
        (
            status.join().unwrap_or_else(|_| Ok(String::new())),
            config.join().unwrap_or_default(),
            log.join().unwrap_or(None),
            origin_head.join().unwrap_or(None),
        )
    });
    let status = parse_status(&status?);
    let config: Vec<(String, String)> = config
        .split('\0')
        .filter_map(|entry| entry.split_once('\n'))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    let setting = |key: &str| {
        config
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let log: Vec<String> = log
        .map(|l| l.split('\0').map(str::to_string).collect())
        .unwrap_or_default();
    let field = |i: usize| log.get(i).cloned().unwrap_or_default();
    let has_commits = !log.is_empty();
    let parent = field(1)
        .split(' ')
        .next()
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    let before = match (&status.upstream, has_commits) {
        (_, false) => ZERO_SHA.to_string(),
        (Some(_), true) => git_opt(root, &["rev-parse", "-q", "--verify", "@{upstream}"])
            .or(parent)
            .unwrap_or_else(|| ZERO_SHA.to_string()),
        (None, true) => parent.unwrap_or_else(|| ZERO_SHA.to_string()),
    };
    let changed_files = committed_changes(root, has_commits, &before).map(|mut files| {
        files.extend(status.changed.iter().cloned());
        files.sort();
        files.dedup();
        files
    });
    Ok(RepoState {
        root: root.to_path_buf(),
        sha: if has_commits {
            field(0)
        } else {
            ZERO_SHA.to_string()
        },
        branch: status.branch,
        default_branch: origin_head
            .and_then(|b| b.strip_prefix("origin/").map(str::to_string))
            .or_else(|| setting("init.defaultbranch"))
            .unwrap_or_else(|| "main".to_string()),
        repository: setting("remote.origin.url")
            .and_then(|url| repository_from_url(&url))
            .unwrap_or_else(|| {
                let dir = root
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or("repository");
                format!("local/{dir}")
            }),
        actor: setting("user.name")
            .or_else(|| std::env::var("USER").ok())
            .unwrap_or_else(|| "local".to_string()),
        before,
        changed_files,
        head_message: field(2),
        head_author: field(3),
        head_timestamp: field(4),
    })
}

/// The git settings `read_state` needs, as one `--get-regexp`.
const CONFIG_KEYS: &str = r"^(init\.defaultbranch|user\.name|remote\.origin\.url)$";

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

/// What `git status --porcelain=v2 --branch -z` says.
#[derive(Debug, Default, Clone)]
struct Status {
    branch: Option<String>,
    upstream: Option<String>,
    /// Paths with uncommitted changes (staged, unstaged or untracked).
    changed: Vec<String>,
}

fn parse_status(text: &str) -> Status {
    let mut status = Status::default();
    let mut entries = text.split('\0');
    while let Some(entry) = entries.next() {
        if let Some(head) = entry.strip_prefix("# branch.head ") {
            status.branch = (head != "(detached)").then(|| head.to_string());
        } else if let Some(upstream) = entry.strip_prefix("# branch.upstream ") {
            status.upstream = Some(upstream.to_string());
        } else if let Some(path) = entry.strip_prefix("? ") {
            status.changed.push(path.to_string());
        } else if entry.starts_with("1 ") {
            // `1 XY sub mH mI mW hH hI path`
            status
                .changed
                .extend(entry.splitn(9, ' ').nth(8).map(str::to_string));
        } else if entry.starts_with("2 ") {
            // `2 XY sub mH mI mW hH hI Xscore path`, then the original path.
            status
                .changed
                .extend(entry.splitn(10, ' ').nth(9).map(str::to_string));
            status.changed.extend(entries.next().map(str::to_string));
        } else if entry.starts_with("u ") {
            status
                .changed
                .extend(entry.splitn(11, ' ').nth(10).map(str::to_string));
        }
    }
    status
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
    fn status_lists_branch_upstream_and_changed_paths() {
        let hash = "1111111111111111111111111111111111111111";
        let text = format!(
            "# branch.oid abc\0# branch.head main\0# branch.upstream origin/main\0\
             1 .M N... 100644 100644 100644 {hash} {hash} src/a b.rs\0\
             2 R. N... 100644 100644 100644 {hash} {hash} R100 new.rs\0old.rs\0\
             ? notes.txt\0"
        );
        let status = parse_status(&text);
        assert_eq!(status.branch.as_deref(), Some("main"));
        assert_eq!(status.upstream.as_deref(), Some("origin/main"));
        assert_eq!(
            status.changed,
            ["src/a b.rs", "new.rs", "old.rs", "notes.txt"]
        );
        assert_eq!(parse_status("# branch.head (detached)\0").branch, None);
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
