//! What history queries return: plain data, serializable so the CLI can
//! print it as JSON. Timestamps are milliseconds since the Unix epoch
//! (see [`crate::timestamp`] to format them), durations milliseconds.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sluice_events::{AnnotationLevel, JobKey, Outcome, Stream, Timestamp};

use crate::status::Status;

/// A run as listed by `sluice runs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    /// The run's number within its repository.
    pub number: u64,
    pub repository: String,
    pub workflow: String,
    pub workflow_path: String,
    /// The triggering event, e.g. `push`.
    pub event: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
    pub status: Status,
    /// When the run was asked for (its start, for a run that never waited).
    pub queued_at: Timestamp,
    /// `None` while queued, and for a run cancelled before it started.
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<u64>,
    /// The exit code of the `sluice` process that ran it, if it said.
    pub exit_code: Option<i32>,
}

impl RunSummary {
    /// The first 7 characters of the commit, as GitHub abbreviates it.
    pub fn short_sha(&self) -> &str {
        self.sha.get(..7).unwrap_or(&self.sha)
    }
}

/// One run in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunDetail {
    #[serde(flatten)]
    pub summary: RunSummary,
    /// The chain of jobs that bounded the run's wall time, first to last.
    pub critical_path: Vec<JobKey>,
    /// In the order the run announced them.
    pub jobs: Vec<JobRecord>,
    pub annotations: Vec<AnnotationRecord>,
    pub step_summaries: Vec<StepSummaryRecord>,
    /// The remote actions and reusable workflows used, and their commits.
    #[serde(default)]
    pub actions: Vec<crate::action_queries::ActionRecord>,
    /// Decisions on the run's deployments, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<sluice_events::Approval>,
    /// What the run deployed to environments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deployments: Vec<crate::deployment_records::DeploymentRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job instance's key, e.g. `test[1]`.
    pub key: JobKey,
    /// The job's id in the workflow, e.g. `test`.
    pub id: String,
    pub name: String,
    pub needs: Vec<JobKey>,
    pub status: Status,
    /// Why the job was skipped, when it was.
    pub skip_reason: Option<String>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<u64>,
    pub outputs: IndexMap<String, String>,
    /// The deployment environment the job deploys to, once known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// While it waits (status `waiting`): what for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting: Option<WaitRecord>,
    /// By index.
    pub steps: Vec<StepRecord>,
}

/// What a `waiting` job waits for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitRecord {
    /// Distinct approvals it needs (0: only a wait timer holds it).
    pub required_approvals: u32,
    pub since: Timestamp,
    /// When it fails unless approved.
    pub approval_deadline: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    /// 0-based position of the step in its job.
    pub index: usize,
    /// The step's `id:` (may be empty).
    pub id: String,
    pub name: String,
    pub status: Status,
    /// The step's own result, once finished.
    pub outcome: Option<Outcome>,
    /// The result after `continue-on-error`, once finished.
    pub conclusion: Option<Outcome>,
    pub exit_code: Option<i32>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub duration_ms: Option<u64>,
    /// Restored from the step cache instead of run.
    #[serde(default)]
    pub cached: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnotationRecord {
    pub job: JobKey,
    pub step: Option<usize>,
    pub level: AnnotationLevel,
    pub message: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    pub col: Option<u32>,
    pub title: Option<String>,
    pub at: Timestamp,
}

/// The Markdown a step wrote to `GITHUB_STEP_SUMMARY`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepSummaryRecord {
    pub job: JobKey,
    pub job_name: String,
    pub step: usize,
    pub step_name: String,
    pub markdown: String,
    pub at: Timestamp,
}

/// One stored log line with the labels of where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub job: JobKey,
    pub job_name: String,
    /// `None` for lines about the job rather than one of its steps.
    pub step: Option<usize>,
    pub step_name: Option<String>,
    pub stream: Stream,
    pub at: Timestamp,
    /// The line's position in everything the run logged, across jobs.
    pub seq: u64,
    pub text: String,
}

impl LogLine {
    /// Whether the line is of the job and step asked for, as a person
    /// names them: a job by key (`test[1]`), id (`test`) or name; a step
    /// by number (1-based) or name. `None` asks for all.
    pub fn is_of(&self, job: Option<&str>, step: Option<&str>) -> bool {
        let job_matches = job.is_none_or(|job| {
            self.job == job || self.job.job().as_str() == job || self.job_name == job
        });
        let step_matches = step.is_none_or(|step| match step.parse::<usize>() {
            Ok(n) => self.step == n.checked_sub(1),
            Err(_) => self.step_name.as_deref() == Some(step),
        });
        job_matches && step_matches
    }
}

/// A run that [`crate::History::recover_interrupted`] found abandoned by
/// its process and marked `interrupted`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveredRun {
    pub repository: String,
    pub number: u64,
    pub workflow: String,
    /// Log lines rescued from its spool files.
    pub recovered_lines: u64,
}

/// What the cache did, summed over runs (`sluice cache stats`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    pub lookups: u64,
    pub hits: u64,
    /// Restored from a restore key (actions/cache) rather than the exact key.
    pub partial_hits: u64,
    pub misses: u64,
    /// Bytes written while restoring.
    pub bytes_restored: u64,
    /// Time spent looking up and restoring.
    pub restore_ms: u64,
    /// For step-cache hits: what the skipped steps took when they ran,
    /// minus the time their restore took.
    pub time_saved_ms: u64,
    pub saves: u64,
    /// Bytes newly written to the store by saves.
    pub bytes_saved: u64,
    /// Per kind (`step`, `key`): lookups, hits.
    pub by_kind: Vec<CacheKindStats>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKindStats {
    pub kind: String,
    pub lookups: u64,
    pub hits: u64,
    pub partial_hits: u64,
}

/// One recorded cache lookup, newest first (`sluice cache why`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheLookupRecord {
    pub run: u64,
    pub job: JobKey,
    pub step: usize,
    pub kind: String,
    pub key: String,
    pub result: String,
    pub at: Timestamp,
}
