//! What a queued run needs to start: kept with the run in the history
//! (as JSON), read when a worker takes it, and again for a re-run or
//! when an interrupted run is queued anew.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Version of [`RunRequest`]'s shape.
pub const REQUEST_FORMAT_VERSION: u32 = 1;

/// One workflow run, as asked for by a trigger.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    pub version: u32,
    /// The workflow file, relative to the repository root.
    pub workflow_path: String,
    /// `push`, `pull_request`, `workflow_dispatch`, `schedule`.
    pub event: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    /// The commit the run is for.
    pub sha: String,
    /// For a push: the commit the ref pointed at before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The files the event changed, when known (for `paths` filters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_files: Option<Vec<String>>,
    /// For a pull request: its base and head branches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_ref: Option<String>,
    /// `workflow_dispatch` inputs as given.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub inputs: IndexMap<String, String>,
    /// The event's payload (`github.event`).
    #[serde(default)]
    pub payload: Json,
    /// For a re-run: the run it repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun: Option<Rerun>,
    /// Code from outside the team (a fork's pull request): it runs with
    /// no secrets and only a minimal environment.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub untrusted: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_request_is_pinned_and_reads_back() {
        let request = RunRequest {
            version: REQUEST_FORMAT_VERSION,
            workflow_path: ".github/workflows/ci.yml".into(),
            event: "push".into(),
            git_ref: "refs/heads/main".into(),
            sha: "5cd7d65e2c55848edbc4d5ebaca829c246ed67d1".into(),
            before: Some("1111111111111111111111111111111111111111".into()),
            changed_files: Some(vec!["src/lib.rs".into()]),
            base_ref: None,
            head_ref: None,
            inputs: IndexMap::new(),
            payload: serde_json::json!({"ref": "refs/heads/main"}),
            rerun: Some(Rerun {
                of: 11,
                failed_only: true,
            }),
            untrusted: false,
        };
        insta::assert_json_snapshot!("run_request", request);
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(serde_json::from_str::<RunRequest>(&text).unwrap(), request);
    }
}

/// A run that repeats another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rerun {
    /// The number of the run repeated.
    pub of: u64,
    /// Only the jobs that did not succeed (and those that need them) run
    /// again; the others' results and outputs are taken from run `of`.
    pub failed_only: bool,
}
