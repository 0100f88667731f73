//! The event a run simulates, and the `github` context it produces.
//!
//! The binary reads the repository (commit, branch, remote, changed files)
//! and describes it with a [`Repository`]; this module turns that and the
//! event the user asked for into GitHub's event payload and `github`
//! context, so that workflows see the same values they would on GitHub.

use indexmap::IndexMap;
use serde_json::{Value as Json, json};

/// The repository as the run sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
    pub default_branch: String,
    /// The checked-out commit.
    pub sha: String,
    /// The current branch; `None` when detached.
    pub branch: Option<String>,
    /// Who triggers the run.
    pub actor: String,
    /// Absolute path of the working tree (`github.workspace`).
    pub workspace: String,
    /// For pushes: the commit the push starts from.
    pub before: String,
    /// Files the event changes, when known.
    pub changed_files: Option<Vec<String>>,
    pub head_message: String,
    pub head_author: String,
    pub head_timestamp: String,
}

/// An event to plan for.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `push`, `pull_request`, `workflow_dispatch`, `schedule`, ...
    pub name: String,
    /// The ref the run is for, e.g. `refs/heads/main`.
    pub git_ref: String,
    pub sha: String,
    /// The event's payload (`github.event`).
    pub payload: Json,
    /// Files changed by the event, for `paths` filters; `None` when unknown.
    pub changed_files: Option<Vec<String>>,
    /// For pull requests: the base and head branches.
    pub base_ref: Option<String>,
    pub head_ref: Option<String>,
    /// `workflow_dispatch` inputs as given (KEY=VALUE), before typing.
    pub inputs: IndexMap<String, String>,
}

impl Event {
    /// A push of the current branch (or of the detached commit).
    pub fn push(repo: &Repository) -> Self {
        let git_ref = branch_ref(repo);
        let payload = json!({
            "ref": git_ref,
            "before": repo.before,
            "after": repo.sha,
            "created": repo.before.chars().all(|c| c == '0'),
            "deleted": false,
            "forced": false,
            "base_ref": null,
            "compare": "",
            "head_commit": head_commit(repo),
            "commits": [head_commit(repo)],
            "pusher": {"name": repo.actor},
            "repository": repository_payload(repo),
            "sender": {"login": repo.actor},
        });
        Event {
            name: "push".into(),
            git_ref,
            sha: repo.sha.clone(),
            payload,
            changed_files: repo.changed_files.clone(),
            base_ref: None,
            head_ref: None,
            inputs: IndexMap::new(),
        }
    }

    /// A pull request from the current branch into `base` (default: the
    /// repository's default branch). `changed_files` are the files of the
    /// pull request's diff (base...head), computed by the caller.
    pub fn pull_request(
        repo: &Repository,
        base: Option<&str>,
        changed_files: Option<Vec<String>>,
    ) -> Self {
        let base = base.unwrap_or(&repo.default_branch).to_string();
        let head = repo.branch.clone().unwrap_or_else(|| "HEAD".into());
        let payload = json!({
            "action": "synchronize",
            "number": 1,
            "pull_request": {
                "number": 1,
                "title": repo.head_message,
                "head": {"ref": head, "sha": repo.sha},
                "base": {"ref": base, "sha": ""},
                "user": {"login": repo.actor},
            },
            "repository": repository_payload(repo),
            "sender": {"login": repo.actor},
        });
        Event {
            name: "pull_request".into(),
            git_ref: "refs/pull/1/merge".into(),
            sha: repo.sha.clone(),
            payload,
            changed_files,
            base_ref: Some(base),
            head_ref: Some(head),
            inputs: IndexMap::new(),
        }
    }

    /// A manual run with the given inputs.
    pub fn workflow_dispatch(repo: &Repository, inputs: IndexMap<String, String>) -> Self {
        let git_ref = branch_ref(repo);
        let payload = json!({
            "ref": git_ref,
            "inputs": inputs,
            "repository": repository_payload(repo),
            "sender": {"login": repo.actor},
            "workflow": "",
        });
        Event {
            name: "workflow_dispatch".into(),
            git_ref,
            sha: repo.sha.clone(),
            payload,
            changed_files: None,
            base_ref: None,
            head_ref: None,
            inputs,
        }
    }

    /// Any other event (schedule, release, ...), on the current ref.
    pub fn other(repo: &Repository, name: &str) -> Self {
        let git_ref = if name == "schedule" {
            format!("refs/heads/{}", repo.default_branch)
        } else {
            branch_ref(repo)
        };
        Event {
            name: name.into(),
            git_ref,
            sha: repo.sha.clone(),
            payload: json!({
                "repository": repository_payload(repo),
                "sender": {"login": repo.actor},
            }),
            changed_files: None,
            base_ref: None,
            head_ref: None,
            inputs: IndexMap::new(),
        }
    }

    /// `refs/heads/x` -> `x`, `refs/tags/v1` -> `v1`, `refs/pull/1/merge` -> `1/merge`.
    pub fn ref_name(&self) -> &str {
        self.git_ref
            .strip_prefix("refs/heads/")
            .or_else(|| self.git_ref.strip_prefix("refs/tags/"))
            .or_else(|| self.git_ref.strip_prefix("refs/pull/"))
            .unwrap_or(&self.git_ref)
    }

    pub fn ref_type(&self) -> &str {
        if self.git_ref.starts_with("refs/tags/") {
            "tag"
        } else {
            "branch"
        }
    }
}

fn branch_ref(repo: &Repository) -> String {
    match &repo.branch {
        Some(b) => format!("refs/heads/{b}"),
        None => format!("refs/heads/{}", repo.default_branch),
    }
}

fn head_commit(repo: &Repository) -> Json {
    json!({
        "id": repo.sha,
        "message": repo.head_message,
        "timestamp": repo.head_timestamp,
        "author": {"name": repo.head_author},
    })
}

fn repository_payload(repo: &Repository) -> Json {
    let (owner, name) = repo
        .full_name
        .split_once('/')
        .unwrap_or(("local", repo.full_name.as_str()));
    json!({
        "name": name,
        "full_name": repo.full_name,
        "default_branch": repo.default_branch,
        "owner": {"login": owner, "name": owner},
    })
}

/// The `github` context for a run of `workflow_name` (a workflow file path
/// relative to the repository root, e.g. `.github/workflows/ci.yml`).
pub fn github_context(
    repo: &Repository,
    event: &Event,
    workflow_name: &str,
    workflow_path: &str,
) -> Json {
    let (owner, _) = repo.full_name.split_once('/').unwrap_or(("local", ""));
    json!({
        "event_name": event.name,
        "event": event.payload,
        "sha": event.sha,
        "ref": event.git_ref,
        "ref_name": event.ref_name(),
        "ref_type": event.ref_type(),
        "ref_protected": false,
        "head_ref": event.head_ref.clone().unwrap_or_default(),
        "base_ref": event.base_ref.clone().unwrap_or_default(),
        "actor": repo.actor,
        "actor_id": "0",
        "triggering_actor": repo.actor,
        "repository": repo.full_name,
        "repository_id": "0",
        "repository_owner": owner,
        "repository_owner_id": "0",
        "repositoryUrl": format!("git://local/{}.git", repo.full_name),
        "workspace": repo.workspace,
        "workflow": workflow_name,
        "workflow_ref": format!("{}/{}@{}", repo.full_name, workflow_path, event.git_ref),
        "workflow_sha": event.sha,
        "server_url": "https://github.com",
        "api_url": "https://api.github.com",
        "graphql_url": "https://api.github.com/graphql",
        "retention_days": "90",
        "secret_source": "None",
        "token": "",
        "run_id": "0",
        "run_number": "0",
        "run_attempt": "1",
        "job": "",
        "action": "",
        "action_path": "",
        "path": "",
        "env": "",
        "output": "",
        "state": "",
        "step_summary": "",
    })
}
