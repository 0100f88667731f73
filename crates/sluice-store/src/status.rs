//! Where a run, a job or a step stands in the history.

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::{Deserialize, Serialize};
use sluice_events::Outcome;

/// The state of a run, job or step as recorded.
///
/// `Queued` applies to runs only (numbered, waiting to start); `Pending`
/// to jobs only (announced, not started), and so does `Waiting` (held by
/// its deployment environment's rules: approvals, a wait timer). `Interrupted`
/// means the recording process died, or stopped recording, before the
/// run finished: nobody knows how it would have ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Queued,
    Pending,
    Waiting,
    Running,
    Success,
    Failure,
    Cancelled,
    Skipped,
    Interrupted,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Pending => "pending",
            Status::Waiting => "waiting",
            Status::Running => "running",
            Status::Success => "success",
            Status::Failure => "failure",
            Status::Cancelled => "cancelled",
            Status::Skipped => "skipped",
            Status::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "queued" => Status::Queued,
            "pending" => Status::Pending,
            "waiting" => Status::Waiting,
            "running" => Status::Running,
            "success" => Status::Success,
            "failure" => Status::Failure,
            "cancelled" => Status::Cancelled,
            "skipped" => Status::Skipped,
            "interrupted" => Status::Interrupted,
            _ => return None,
        })
    }

    /// Whether the thing is over (for better or worse).
    pub fn is_finished(self) -> bool {
        !matches!(
            self,
            Status::Queued | Status::Pending | Status::Waiting | Status::Running
        )
    }
}

impl From<Outcome> for Status {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Success => Status::Success,
            Outcome::Failure => Status::Failure,
            Outcome::Cancelled => Status::Cancelled,
            Outcome::Skipped => Status::Skipped,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ToSql for Status {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.as_str()))
    }
}

impl FromSql for Status {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        Status::parse(text)
            .ok_or_else(|| FromSqlError::Other(format!("unknown status `{text}`").into()))
    }
}
