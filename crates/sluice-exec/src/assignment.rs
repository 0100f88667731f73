//! The boundary between deciding which job runs next and running it.
//!
//! The scheduler hands each job instance to a runner as a
//! [`JobAssignment`]: owned data naming the job by where it is written
//! (not by reference into the parsed workflow) with every context the
//! scheduler decided, serialisable as JSON, so that the runner can be a
//! thread here today and an agent on another machine later. What comes
//! back is the job's events and its report.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sluice_plan::JobOrigin;

use crate::events::JobKey;

/// Version of the assignment's shape, for a runner that is not this
/// process.
pub const ASSIGNMENT_FORMAT_VERSION: u32 = 1;

/// One job instance to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobAssignment {
    pub version: u32,
    /// The run it belongs to (`GITHUB_RUN_ID`).
    pub run_id: String,
    pub key: JobKey,
    /// Where the job is written: the calls from the run's workflow that
    /// lead to it, and its id there.
    pub origin: JobOrigin,
    /// The `inputs` context (a called workflow's, for its jobs).
    pub inputs: Json,
    /// The `secrets` context of a called workflow's job; `None` for the
    /// run's own. Never serialised: a remote runner is given secrets over
    /// its own channel, not in a document that may be logged.
    #[serde(skip)]
    pub secrets: Option<IndexMap<String, String>>,
    pub matrix: Json,
    pub strategy: Json,
    /// The `needs` context: `{id: {result, outputs}}`.
    pub needs: Json,
    /// Step-cache keys of the cached steps of the jobs this job needs, by
    /// their keys.
    pub upstream_keys: IndexMap<JobKey, Vec<String>>,
}
