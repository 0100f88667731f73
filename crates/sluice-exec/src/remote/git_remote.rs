//! Talking to the repository behind a remote reference with `git`:
//! resolving a tag or branch to a commit, and fetching one commit's tree.
//!
//! `git` is run with prompts off, a time limit, and the token (if any) in
//! its environment as an HTTP header, never on its command line (which
//! other users can read in `/proc`).

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::error::RemoteError;
use super::reference::is_full_sha;

/// How long one `git` call may take before the server counts as unreachable.
const GIT_TIMEOUT: Duration = Duration::from_secs(120);

/// A repository on the actions server.
pub(crate) struct GitRemote<'a> {
    /// Its URL: `<server>/<owner>/<repo>`.
    pub url: String,
    /// A token for private repositories.
    pub token: Option<&'a str>,
}

/// What a name resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub commit: String,
    /// `refs/tags/v4`, `refs/heads/main`; `None` for a commit SHA.
    pub full_ref: Option<String>,
}

impl GitRemote<'_> {
    /// The commit `git_ref` names on the server: a tag (preferred, as on
    /// GitHub) or a branch; a full SHA is taken as is (it is verified when
    /// fetched). `Ok(None)` when the server has no such tag or branch.
    pub fn resolve(&self, git_ref: &str) -> Result<Option<Resolved>, RemoteError> {
        if is_full_sha(git_ref) {
            return Ok(Some(Resolved {
                commit: git_ref.to_ascii_lowercase(),
                full_ref: None,
            }));
        }
        let tag = format!("refs/tags/{git_ref}");
        let branch = format!("refs/heads/{git_ref}");
        let output = self.git(
            None,
            &["ls-remote", "--exit-code", &self.url, &tag, &branch],
        )?;
        let listing = match output {
            GitOutput::Success(listing) => listing,
            // --exit-code: no matching refs.
            GitOutput::Failed { code: Some(2), .. } => return Ok(None),
            GitOutput::Failed { stderr, .. } => {
                return Err(RemoteError::Unreachable {
                    url: self.url.clone(),
                    reason: last_line(&stderr),
                });
            }
        };
        // An annotated tag is listed twice; the peeled line (`^{}`) names
        // the commit.
        let find = |name: &str| {
            let peeled = format!("{name}^{{}}");
            let mut commit = None;
            for line in listing.lines() {
                let Some((sha, listed)) = line.split_once('\t') else {
                    continue;
                };
                if listed == peeled {
                    return Some(sha.to_string());
                }
                if listed == name {
                    commit = Some(sha.to_string());
                }
            }
            commit
        };
        Ok([tag, branch].into_iter().find_map(|name| {
            find(&name).map(|commit| Resolved {
                commit,
                full_ref: Some(name),
            })
        }))
    }

    /// Fetches `resolved`'s commit and writes its tree into `work_tree`,
    /// using `scratch` for the repository. Fails unless the commit fetched
    /// is exactly the one resolved (a pin is never trusted by name).
    pub fn fetch_tree(
        &self,
        resolved: &Resolved,
        scratch: &Path,
        work_tree: &Path,
    ) -> Result<(), RemoteError> {
        let git_dir = scratch.to_str().ok_or_else(|| RemoteError::Local {
            action: "use the scratch directory",
            reason: format!("{} is not UTF-8", scratch.display()),
        })?;
        self.git_ok(None, &["init", "--bare", "-q", git_dir])?;
        let fetched = match &resolved.full_ref {
            Some(name) => self.git_ok(
                Some(scratch),
                &["fetch", "-q", "--depth", "1", "--no-tags", &self.url, name],
            ),
            None => self
                .git_ok(
                    Some(scratch),
                    &[
                        "fetch",
                        "-q",
                        "--depth",
                        "1",
                        "--no-tags",
                        &self.url,
                        &resolved.commit,
                    ],
                )
                // Servers that do not serve a commit by its name: all of
                // the branches and tags, in which it must be found.
                .or_else(|_| {
                    self.git_ok(
                        Some(scratch),
                        &[
                            "fetch",
                            "-q",
                            &self.url,
                            "+refs/heads/*:refs/remotes/origin/*",
                            "+refs/tags/*:refs/tags/*",
                        ],
                    )
                }),
        };
        fetched?;
        let wanted = format!("{}^{{commit}}", resolved.commit);
        let found = match &resolved.full_ref {
            Some(_) => self.git_ok(
                Some(scratch),
                &["rev-parse", "--verify", "-q", "FETCH_HEAD^{commit}"],
            ),
            None => self.git_ok(Some(scratch), &["rev-parse", "--verify", "-q", &wanted]),
        }
        .map(|out| out.trim().to_string())
        .map_err(|_| RemoteError::CommitNotFound {
            url: self.url.clone(),
            commit: resolved.commit.clone(),
        })?;
        if found != resolved.commit {
            return Err(RemoteError::PinMismatch {
                url: self.url.clone(),
                wanted: resolved.commit.clone(),
                found,
            });
        }
        let work = work_tree.to_str().ok_or_else(|| RemoteError::Local {
            action: "use the work tree",
            reason: format!("{} is not UTF-8", work_tree.display()),
        })?;
        let tree = format!("--work-tree={work}");
        self.git_ok(Some(scratch), &[&tree, "read-tree", &found])?;
        self.git_ok(Some(scratch), &[&tree, "checkout-index", "-a", "-f"])?;
        Ok(())
    }

    /// Runs git; `Err` only when it could not be run at all.
    fn git(&self, git_dir: Option<&Path>, args: &[&str]) -> Result<GitOutput, RemoteError> {
        let mut command = Command::new("git");
        if let Some(dir) = git_dir {
            command.arg("--git-dir").arg(dir);
        }
        command
            .args(args)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ASKPASS", "true")
            .env("SSH_ASKPASS", "true")
            .env("GIT_ALLOW_PROTOCOL", "http:https:ssh:git:file")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(token) = self.token {
            // Basic authentication with the token as password, as GitHub
            // takes it; in the environment, not on the command line.
            let credentials = crate::mask::base64(format!("x-access-token:{token}").as_bytes());
            command
                .env("GIT_CONFIG_COUNT", "1")
                .env("GIT_CONFIG_KEY_0", "http.extraHeader")
                .env(
                    "GIT_CONFIG_VALUE_0",
                    format!("Authorization: Basic {credentials}"),
                );
        }
        let mut child = command.spawn().map_err(|e| RemoteError::Local {
            action: "run git",
            reason: e.to_string(),
        })?;
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let read_all = |stream: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut text = String::new();
                if let Some(mut stream) = stream {
                    let _ = stream.read_to_string(&mut text);
                }
                text
            })
        };
        let out = read_all(stdout.map(|s| Box::new(s) as Box<dyn Read + Send>));
        let err = read_all(stderr.map(|s| Box::new(s) as Box<dyn Read + Send>));
        let deadline = Instant::now() + GIT_TIMEOUT;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(_) => break None,
            }
        };
        let stdout = out.join().unwrap_or_default();
        let stderr = err.join().unwrap_or_default();
        Ok(match status {
            Some(status) if status.success() => GitOutput::Success(stdout),
            Some(status) => GitOutput::Failed {
                code: status.code(),
                stderr,
            },
            None => GitOutput::Failed {
                code: None,
                stderr: format!("git did not finish within {} s", GIT_TIMEOUT.as_secs()),
            },
        })
    }

    /// Runs git and wants it to succeed.
    fn git_ok(&self, git_dir: Option<&Path>, args: &[&str]) -> Result<String, RemoteError> {
        match self.git(git_dir, args)? {
            GitOutput::Success(stdout) => Ok(stdout),
            GitOutput::Failed { stderr, .. } => Err(RemoteError::Unreachable {
                url: self.url.clone(),
                reason: last_line(&stderr),
            }),
        }
    }
}

enum GitOutput {
    Success(String),
    Failed { code: Option<i32>, stderr: String },
}

/// The last non-empty line of git's complaint (the one that says why).
fn last_line(stderr: &str) -> String {
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("git failed without saying why")
        .trim()
        .to_string()
}
