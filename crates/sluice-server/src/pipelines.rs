//! What the server asks of the engine, which it does not link: which
//! runs a trigger starts, running one of them, and the schedules. The
//! binary implements [`Pipelines`] with the executor; the server only
//! queues, hands out and records.

use indexmap::IndexMap;
use serde_json::Value as Json;
use sluice_events::{CancelToken, EventSink, Outcome};
use sluice_store::{ClaimedRun, GroupMembership};
use sluice_workflow::CronSchedule;

use crate::request::RunRequest;

/// Something that happened that may start runs.
#[derive(Debug, Clone, PartialEq)]
pub enum Trigger {
    /// A branch or tag was pushed (a webhook, or a git hook).
    Push {
        git_ref: String,
        before: String,
        after: String,
        payload: Json,
    },
    /// A pull request was opened, updated, reopened or closed.
    PullRequest {
        action: String,
        number: u64,
        head_sha: String,
        base_ref: String,
        head_ref: String,
        /// The head is in another repository (a fork): its code is not
        /// the team's, and runs without secrets, if at all.
        from_fork: bool,
        payload: Json,
    },
    /// A person asked for a workflow (`sluice dispatch`, the API).
    Dispatch {
        /// A file name (`deploy.yml`), a path, or a workflow name.
        workflow: String,
        /// `None`: the default branch.
        git_ref: Option<String>,
        inputs: IndexMap<String, String>,
        payload: Json,
    },
    /// A workflow's `on.schedule` came due.
    Schedule {
        workflow_path: String,
        cron: String,
        git_ref: String,
        sha: String,
    },
}

/// One run a trigger starts.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedRun {
    pub workflow: String,
    pub request: RunRequest,
    /// The workflow's `concurrency`, evaluated.
    pub concurrency: Option<GroupMembership>,
}

/// A workflow's schedule, on the default branch's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub workflow_path: String,
    /// As written (it is `github.event.schedule`).
    pub cron: String,
    pub parsed: CronSchedule,
    /// The default branch's ref and head commit.
    pub git_ref: String,
    pub sha: String,
}

/// Why a trigger could not be planned, or a run not exported.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The trigger names something that does not exist or is not allowed
    /// (an unknown workflow, a bad input): the caller's mistake (4xx).
    #[error("{0}")]
    Rejected(String),
    /// The repository or its remote failed (5xx).
    #[error("{0}")]
    Failed(String),
}

/// The engine, as the server sees it.
pub trait Pipelines: Send + Sync + 'static {
    /// The runs `trigger` starts, one per workflow it selects, each at
    /// the trigger's commit (fetched from the repository's own remote:
    /// nothing in a trigger names a URL).
    fn plan(&self, trigger: &Trigger) -> Result<Vec<PlannedRun>, PipelineError>;

    /// Runs `run` to its end on the calling thread; its events go to
    /// `sink` (which records them), `cancel` stops it.
    fn execute(
        &self,
        run: &ClaimedRun,
        request: &RunRequest,
        sink: &dyn EventSink,
        cancel: &CancelToken,
    ) -> Outcome;

    /// The schedules of the workflows at the default branch's head.
    fn schedules(&self) -> Result<Vec<Schedule>, PipelineError>;

    /// Writes artifact `name` of run `number` as a tar archive.
    fn export_artifact(
        &self,
        number: u64,
        name: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<(), PipelineError>;
}
