//! The event and repository a server's run sees, made from its request
//! (the same way when the trigger is planned and when the run starts).

use std::path::Path;

use serde_json::Value as Json;
use sluice_exec::git::{self, ReadOptions, commits};
use sluice_plan::{Event, Repository};
use sluice_server::RunRequest;

/// The repository as the run's plan sees it: named as the server's
/// clone names it, at the request's commit, with `workspace` as the
/// working tree.
pub fn repository(
    root: &Path,
    request: &RunRequest,
    workspace: &Path,
) -> Result<Repository, git::GitError> {
    let state = git::read_state(root, &ReadOptions::default())?;
    let (head_message, head_author, head_timestamp) = commits::describe(root, &request.sha)?;
    let branch = request
        .git_ref
        .strip_prefix("refs/heads/")
        .map(str::to_owned)
        .or_else(|| request.head_ref.clone());
    Ok(Repository {
        full_name: state.repository,
        default_branch: state.default_branch,
        sha: request.sha.clone(),
        branch,
        actor: actor(&request.payload).unwrap_or(state.actor),
        workspace: workspace.display().to_string(),
        before: request
            .before
            .clone()
            .unwrap_or_else(|| git::ZERO_SHA.to_string()),
        changed_files: request.changed_files.clone(),
        head_message,
        head_author,
        head_timestamp,
    })
}

/// Who caused the event, as its payload says.
fn actor(payload: &Json) -> Option<String> {
    payload["sender"]["login"]
        .as_str()
        .or_else(|| payload["pusher"]["name"].as_str())
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
}

/// The event: Sluice's own for the event's name, with the request's
/// ref, commit and files, and the payload's fields over its own.
pub fn event(request: &RunRequest, repo: &Repository) -> Event {
    let base = match request.event.as_str() {
        "push" => Event::push(repo),
        "pull_request" => Event::pull_request(
            repo,
            request.base_ref.as_deref(),
            request.changed_files.clone(),
        ),
        "workflow_dispatch" => Event::workflow_dispatch(repo, request.inputs.clone()),
        other => Event::other(repo, other),
    };
    let mut payload = base.payload;
    if let (Json::Object(ours), Json::Object(theirs)) = (&mut payload, &request.payload) {
        for (key, value) in theirs {
            ours.insert(key.clone(), value.clone());
        }
    }
    Event {
        name: request.event.clone(),
        git_ref: request.git_ref.clone(),
        sha: request.sha.clone(),
        payload,
        changed_files: request.changed_files.clone().or(base.changed_files),
        base_ref: request.base_ref.clone().or(base.base_ref),
        head_ref: request.head_ref.clone().or(base.head_ref),
        inputs: request.inputs.clone(),
    }
}
