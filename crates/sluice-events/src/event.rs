//! The events of a run, in the order they happen.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::{
    AnnotationLevel, CacheKind, CacheResult, CoverageFile, CoverageTotals, DiffTotals, JobKey,
    LogLevel, Outcome, PerfResult, Stream, TestCase, Testbed, Totals,
};

/// Version of the event shape; bumped when a field is removed or changes
/// meaning (adding fields or event types does not bump it).
pub const EVENT_FORMAT_VERSION: u32 = 1;

/// Milliseconds since the Unix epoch.
pub type Timestamp = u64;

/// A job as announced at the start of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobInfo {
    pub job: JobKey,
    /// The job's id in the workflow.
    pub id: String,
    pub name: String,
    /// Keys of the job instances this one waits for.
    pub needs: Vec<JobKey>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        version: u32,
        /// The run's number in this repository's history.
        run: u64,
        workflow: String,
        workflow_path: String,
        event: String,
        #[serde(rename = "ref")]
        git_ref: String,
        sha: String,
        jobs: Vec<JobInfo>,
        at: Timestamp,
    },
    /// A job instance whose matrix was only known during the run.
    JobAdded { info: JobInfo, at: Timestamp },
    JobStarted {
        job: JobKey,
        name: String,
        at: Timestamp,
    },
    /// A job with `environment:` holds before it starts, as the
    /// environment's protection rules ask: for approvals (`sluice
    /// approve`), then its wait timer. It holds no job slot meanwhile.
    JobWaiting {
        job: JobKey,
        name: String,
        /// The environment's name, evaluated.
        environment: String,
        /// Distinct approvers it needs (0: only the wait timer holds it).
        required_approvals: u32,
        /// The wait timer, counted from the approval (or from now, when
        /// no approval is needed).
        #[serde(default, skip_serializing_if = "is_zero")]
        wait_timer_ms: u64,
        /// When the job fails unless approved (approvals only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        approval_deadline: Option<Timestamp>,
        at: Timestamp,
    },
    /// A job with `environment:` passed the environment's protection
    /// rules and starts: a deployment of the run's commit to it.
    DeploymentStarted {
        job: JobKey,
        environment: String,
        at: Timestamp,
    },
    /// The job deploying to an environment ended.
    DeploymentFinished {
        job: JobKey,
        environment: String,
        /// `environment.url`, evaluated once the job's steps ran.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        result: Outcome,
        at: Timestamp,
    },
    JobSkipped {
        job: JobKey,
        name: String,
        reason: String,
        at: Timestamp,
    },
    JobFinished {
        job: JobKey,
        name: String,
        result: Outcome,
        duration_ms: u64,
        outputs: IndexMap<String, String>,
        at: Timestamp,
    },
    StepStarted {
        job: JobKey,
        /// 0-based index of the step in the job.
        step: usize,
        step_id: String,
        name: String,
        at: Timestamp,
    },
    StepFinished {
        job: JobKey,
        step: usize,
        /// The step's own result.
        outcome: Outcome,
        /// The result after `continue-on-error` (a failure allowed to fail
        /// concludes as success).
        conclusion: Outcome,
        exit_code: Option<i32>,
        duration_ms: u64,
        /// The step did not run: its outputs and logs came from the cache.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        cached: bool,
        at: Timestamp,
    },
    Log {
        job: JobKey,
        /// `None` for lines about the job rather than one step.
        step: Option<usize>,
        stream: Stream,
        line: String,
        /// How much the line matters, as its writer said (`info` when
        /// absent); observers read it here, never from the text.
        #[serde(default, skip_serializing_if = "LogLevel::is_info")]
        level: LogLevel,
        at: Timestamp,
    },
    Annotation {
        job: JobKey,
        step: Option<usize>,
        level: AnnotationLevel,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        file: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        col: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        at: Timestamp,
    },
    /// The Markdown a step wrote to `GITHUB_STEP_SUMMARY`.
    StepSummary {
        job: JobKey,
        step: usize,
        markdown: String,
        at: Timestamp,
    },
    /// A cache was consulted: a step's own cache, or `actions/cache`.
    CacheLookup {
        job: JobKey,
        step: usize,
        kind: CacheKind,
        /// The key looked up (for the step cache, its hash).
        key: String,
        result: CacheResult,
        /// The key that matched, when it is not `key` (a restore key).
        #[serde(skip_serializing_if = "Option::is_none")]
        matched_key: Option<String>,
        /// Bytes written to restore the cached files.
        bytes: u64,
        duration_ms: u64,
        /// For a step-cache hit: how long the step took when it ran.
        #[serde(skip_serializing_if = "Option::is_none")]
        saved_ms: Option<u64>,
        at: Timestamp,
    },
    /// Something was stored in the cache.
    CacheSaved {
        job: JobKey,
        step: usize,
        kind: CacheKind,
        key: String,
        /// Bytes the entry refers to, and bytes newly written to the store.
        bytes: u64,
        new_bytes: u64,
        duration_ms: u64,
        at: Timestamp,
    },
    /// A step uploaded an artifact (`actions/upload-artifact`); its files
    /// are in the cache under the entry `cache_kind`/`cache_id`.
    ArtifactUploaded {
        job: JobKey,
        step: usize,
        name: String,
        cache_kind: String,
        cache_id: String,
        files: u64,
        bytes: u64,
        /// When it may no longer be downloaded (ms since the epoch).
        expires_at: Timestamp,
        at: Timestamp,
    },
    /// A step used a remote action (or a job a remote reusable workflow):
    /// the commit it ran at, and how it was made available.
    ActionResolved {
        job: JobKey,
        step: Option<usize>,
        /// As written (`owner/repo[/path]@ref`).
        uses: String,
        commit: String,
        /// `fetched`, `cached` or `offline` (see `remote::Origin`).
        origin: String,
        at: Timestamp,
    },
    /// A step's test reports were read: its `reports:` after an attempt,
    /// or a test-report action's files.
    TestReport {
        job: JobKey,
        step: usize,
        /// 1 for the step's first attempt, 2 for its first retry...
        attempt: u32,
        /// The files read, relative to the workspace.
        files: Vec<String>,
        totals: Totals,
        /// Every test the files hold (merged across the files).
        cases: Vec<TestCase>,
        /// The tree of the commit the tests ran on, when the workspace is
        /// exactly that commit (flaky detection compares runs of a tree).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        tree: Option<String>,
        at: Timestamp,
    },
    /// A step's coverage reports, read after an attempt (merged when
    /// several), with the change's coverage when a gate asked for it.
    CoverageReport {
        job: JobKey,
        step: usize,
        attempt: u32,
        /// The files read, relative to the workspace.
        files: Vec<String>,
        totals: CoverageTotals,
        per_file: Vec<CoverageFile>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        diff: Option<DiffTotals>,
        at: Timestamp,
    },
    /// A step's benchmark results, read and judged against the default
    /// branch's history on the same testbed.
    BenchmarkReport {
        job: JobKey,
        step: usize,
        attempt: u32,
        files: Vec<String>,
        testbed: Testbed,
        results: Vec<PerfResult>,
        at: Timestamp,
    },
    RunFinished {
        result: Outcome,
        duration_ms: u64,
        /// The chain of jobs that bounded the run's wall time, first to last.
        critical_path: Vec<JobKey>,
        at: Timestamp,
    },
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}
