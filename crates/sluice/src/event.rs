//! Turning `--event`, `--input` and `--base` into the event to simulate.

use std::path::Path;

use anyhow::{Result, bail};
use indexmap::IndexMap;
use sluice_exec::git::{self, RepoState};
use sluice_plan::{Event, Repository};

use crate::cli::EventArgs;

/// The repository as the plan sees it.
pub fn repository(state: &RepoState) -> Repository {
    Repository {
        full_name: state.repository.clone(),
        default_branch: state.default_branch.clone(),
        sha: state.sha.clone(),
        branch: state.branch.clone(),
        actor: state.actor.clone(),
        workspace: state.root.display().to_string(),
        before: state.before.clone(),
        changed_files: state.changed_files.clone(),
        head_message: state.head_message.clone(),
        head_author: state.head_author.clone(),
        head_timestamp: state.head_timestamp.clone(),
    }
}

/// The event to simulate. `changed_files` says whether a workflow filters
/// on paths, which is what makes a pull request's changed files worth
/// asking git for.
pub fn build(
    root: &Path,
    repo: &Repository,
    args: &EventArgs,
    changed_files: bool,
) -> Result<Event> {
    let inputs = parse_inputs(&args.inputs)?;
    if !inputs.is_empty() && args.event != "workflow_dispatch" {
        bail!("--input only applies to --event workflow_dispatch");
    }
    Ok(match args.event.as_str() {
        "push" => Event::push(repo),
        "pull_request" | "pull_request_target" => {
            let base = args
                .base
                .clone()
                .unwrap_or_else(|| repo.default_branch.clone());
            // The pull request's files: what the current commit changes
            // relative to where it left the base branch, plus uncommitted work.
            let mut changed = if changed_files {
                git::diff_names(root, &base, "HEAD").ok()
            } else {
                None
            };
            if let (Some(changed), Some(local)) = (changed.as_mut(), &repo.changed_files) {
                changed.extend(local.iter().cloned());
                changed.sort();
                changed.dedup();
            }
            let mut event = Event::pull_request(repo, Some(&base), changed);
            event.name = args.event.clone();
            event
        }
        "workflow_dispatch" => Event::workflow_dispatch(repo, inputs),
        other => {
            if other.is_empty() || !other.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                bail!(
                    "'{other}' is not an event name (e.g. push, pull_request, workflow_dispatch, schedule)"
                );
            }
            Event::other(repo, other)
        }
    })
}

/// `--input KEY=VALUE` flags.
pub fn parse_inputs(raw: &[String]) -> Result<IndexMap<String, String>> {
    let mut inputs = IndexMap::new();
    for item in raw {
        let Some((key, value)) = item.split_once('=') else {
            bail!("--input '{item}' must have the form KEY=VALUE");
        };
        if key.is_empty() {
            bail!("--input '{item}' has an empty name");
        }
        inputs.insert(key.to_string(), value.to_string());
    }
    Ok(inputs)
}
