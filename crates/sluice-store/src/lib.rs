//! Run history in embedded SQLite: every run's trigger, jobs, steps,
//! outcomes, outputs, annotations, step summaries and full logs.
//!
//! This is the only crate that speaks SQL. It consumes the executor's
//! events ([`sluice_events`]) through a [`Recorder`], and answers the
//! CLI's questions through [`History`]'s queries.
//!
//! Layout of a state directory:
//!
//! ```text
//! history.sqlite        the database (WAL mode: also -wal and -shm files)
//! spool/<run id>/*.spool  log lines of steps still running
//! ```
//!
//! Durability: every write is a transaction; log lines reach the kernel as
//! they are emitted. A process killed at any moment loses nothing it had
//! recorded: the next [`History::open`] marks its run `interrupted` and
//! imports its spooled lines.

mod action_queries;
mod app_deploy_records;
mod approval_records;
mod artifact_queries;
mod cache_queries;
mod cancel_watch;
mod coverage_records;
mod database;
mod deployment_records;
mod error;
mod history;
mod job_groups;
mod log_filter;
mod log_queries;
mod log_record;
mod log_store;
mod log_tail;
mod metrics_queries;
mod migrations;
mod perf_records;
mod process_identity;
mod queue;
mod recorder;
mod records;
mod recovery;
mod run_queries;
mod server_records;
mod shard_records;
mod spool;
mod sql_values;
mod status;
mod test_queries;
mod test_records;
pub mod timestamp;

pub use action_queries::ActionRecord;
pub use app_deploy_records::AppDeployRecord;
pub use approval_records::{DecisionOutcome, DecisionRequest, PendingApproval};
pub use artifact_queries::ArtifactRecord;
pub use cancel_watch::CancelWatch;
pub use coverage_records::CoverageReportRecord;
pub use deployment_records::{DeploymentQuery, DeploymentRecord};
pub use error::StoreError;
pub use history::{History, NewRun};
pub use job_groups::JobTurn;
pub use log_filter::{JobSelector, LogFilter, StepSelector};
pub use log_tail::{Tail, TailCursor};
pub use metrics_queries::{Histogram, PipelineMetrics};
pub use perf_records::{PerfOrigin, PerfPoint};
pub use queue::{
    CancelOutcome, ClaimedRun, GroupMembership, QueueRequest, Queued, StartDecision, Starter,
};
pub use recorder::Recorder;
pub use records::{
    AnnotationRecord, CacheKindStats, CacheLookupRecord, CacheStats, JobRecord, LogLine,
    RecoveredRun, RunDetail, RunSummary, StepRecord, StepSummaryRecord, WaitRecord,
};
pub use run_queries::RunQuery;
pub use server_records::{NotificationRecord, TokenRecord};
pub use shard_records::TestTiming;
pub use status::Status;
pub use test_queries::{ObservedResult, TestObservations};
pub use test_records::{TestIdentity, TestResultRecord};
