//! Approvals of deployments: the decisions people take on a run's jobs
//! that wait for an environment (`sluice approve`, `sluice reject`, the
//! API), and what a run still waits for.
//!
//! A waiting job counts only decisions taken since it began to wait, so an
//! approval given to one job does not let a later job of the run (or the
//! same job in a re-run) through unasked.

use rusqlite::{Row, params};
use sluice_events::{Approval, ApprovalDecision, JobKey, Timestamp};

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::run_queries::no_such_run;
use crate::sql_values::{get_job_key, get_opt_u64, get_u64, to_sql_u64};
use crate::status::Status;

/// A decision someone takes on a run's deployments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest<'a> {
    pub repository: &'a str,
    pub number: u64,
    /// The environment decided on; `None`: the one the run waits for.
    pub environment: Option<&'a str>,
    pub decision: ApprovalDecision,
    pub by: &'a str,
    pub comment: Option<&'a str>,
    pub at: Timestamp,
}

/// What became of a decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecisionOutcome {
    /// Recorded for the jobs that wait to deploy to `environment`.
    Recorded {
        environment: String,
        jobs: Vec<JobKey>,
        /// Who has approved since they began to wait (this one included).
        approved_by: Vec<String>,
        required_approvals: u32,
    },
    /// No job of the run waits for approval (the run's status).
    NothingWaiting { status: Status },
    /// No job waits for `environment`; these environments do.
    NotWaitingThere {
        environment: String,
        waiting: Vec<String>,
    },
    /// Jobs wait for several environments: the decision must name one.
    Ambiguous { waiting: Vec<String> },
}

/// Jobs of a run waiting for approval to deploy to one environment.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingApproval {
    pub environment: String,
    pub jobs: Vec<JobKey>,
    pub required_approvals: u32,
    /// Who has approved so far (too few).
    pub approved_by: Vec<String>,
    /// When the first of the jobs began to wait.
    pub waiting_since: Timestamp,
    /// When the first of them fails unless approved.
    pub approval_deadline: Option<Timestamp>,
}

/// A job that waits for approvals, as its row says.
struct WaitingJob {
    key: JobKey,
    environment: String,
    required: u32,
    since: Timestamp,
    deadline: Option<Timestamp>,
}

impl History {
    /// Records a decision on what run `number` waits to deploy, in one
    /// transaction with the check that something waits for it.
    pub fn decide(&self, request: &DecisionRequest) -> Result<DecisionOutcome, StoreError> {
        self.db.write("record an approval decision", |db| {
            let (run_id, status) = run_of(db, request.repository, request.number)?;
            let pending = pending_in(db, run_id, request.at)?;
            let chosen = match choose(&pending, request.environment, status) {
                Ok(chosen) => chosen,
                Err(outcome) => return Ok(outcome),
            };
            insert_decision(db, run_id, &chosen.environment, request)?;
            let mut approved_by = chosen.approved_by.clone();
            if request.decision == ApprovalDecision::Approve
                && !approved_by.iter().any(|by| by == request.by)
            {
                approved_by.push(request.by.to_string());
            }
            Ok(DecisionOutcome::Recorded {
                environment: chosen.environment.clone(),
                jobs: chosen.jobs.clone(),
                approved_by,
                required_approvals: chosen.required_approvals,
            })
        })
    }

    /// What run `number` waits for approval of, by environment.
    pub fn pending_approvals(
        &self,
        repository: &str,
        number: u64,
        at: Timestamp,
    ) -> Result<Vec<PendingApproval>, StoreError> {
        self.db.read("read pending approvals", |db| {
            let (run_id, _) = run_of(db, repository, number)?;
            pending_in(db, run_id, at)
        })
    }

    /// The decisions on deploying run id `run_id` to `environment` taken
    /// at or after `since`, oldest first (what a waiting job counts).
    pub fn approval_decisions(
        &self,
        run_id: i64,
        environment: &str,
        since: Timestamp,
    ) -> Result<Vec<Approval>, StoreError> {
        self.db.read("read approval decisions", |db| {
            decisions_since(db, run_id, environment, since)
        })
    }
}

/// The run's id and status.
fn run_of(db: &Database, repository: &str, number: u64) -> Result<(i64, Status), StoreError> {
    use rusqlite::OptionalExtension;
    db.conn()
        .query_row(
            "SELECT id, status FROM runs WHERE repository = ?1 AND number = ?2",
            params![repository, to_sql_u64(number)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()
        .map_err(|e| db.error(format!("find run #{number}"), e))?
        .ok_or_else(|| no_such_run(repository, number))
}

/// The pending approval a decision is for, or why there is none.
fn choose<'p>(
    pending: &'p [PendingApproval],
    environment: Option<&str>,
    status: Status,
) -> Result<&'p PendingApproval, DecisionOutcome> {
    let waiting = || pending.iter().map(|p| p.environment.clone()).collect();
    match (pending, environment) {
        ([], _) => Err(DecisionOutcome::NothingWaiting { status }),
        (_, Some(wanted)) => pending
            .iter()
            .find(|p| p.environment.eq_ignore_ascii_case(wanted))
            .ok_or_else(|| DecisionOutcome::NotWaitingThere {
                environment: wanted.to_string(),
                waiting: waiting(),
            }),
        ([only], None) => Ok(only),
        (_, None) => Err(DecisionOutcome::Ambiguous { waiting: waiting() }),
    }
}

fn insert_decision(
    db: &Database,
    run_id: i64,
    environment: &str,
    request: &DecisionRequest,
) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO environment_approvals (run_id, environment, decision, decided_by, comment, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            run_id,
            environment,
            request.decision.as_str(),
            request.by,
            request.comment,
            to_sql_u64(request.at)
        ],
    )
    .map_err(|e| db.error("record an approval decision", e))?;
    Ok(())
}

/// The run's jobs that still wait for approvals at `at` (not yet
/// approved, rejected or past their deadline), by environment.
fn pending_in(
    db: &Database,
    run_id: i64,
    at: Timestamp,
) -> Result<Vec<PendingApproval>, StoreError> {
    let mut pending: Vec<PendingApproval> = Vec::new();
    for job in waiting_jobs(db, run_id)? {
        if job.deadline.is_some_and(|deadline| deadline <= at) {
            continue;
        }
        let decisions = decisions_since(db, run_id, &job.environment, job.since)?;
        if decisions
            .iter()
            .any(|d| d.decision == ApprovalDecision::Reject)
        {
            continue;
        }
        let approved_by = approvers(&decisions);
        if approved_by.len() >= job.required as usize {
            continue;
        }
        add_to(&mut pending, job, approved_by);
    }
    Ok(pending)
}

/// Groups a waiting job with the others of its environment.
fn add_to(pending: &mut Vec<PendingApproval>, job: WaitingJob, approved_by: Vec<String>) {
    match pending
        .iter_mut()
        .find(|p| p.environment.eq_ignore_ascii_case(&job.environment))
    {
        Some(group) => {
            group.jobs.push(job.key);
            group.required_approvals = group.required_approvals.max(job.required);
            if job.since < group.waiting_since {
                group.waiting_since = job.since;
                group.approved_by = approved_by;
            }
            group.approval_deadline = match (group.approval_deadline, job.deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        None => pending.push(PendingApproval {
            environment: job.environment,
            jobs: vec![job.key],
            required_approvals: job.required,
            approved_by,
            waiting_since: job.since,
            approval_deadline: job.deadline,
        }),
    }
}

fn waiting_jobs(db: &Database, run_id: i64) -> Result<Vec<WaitingJob>, StoreError> {
    db.conn()
        .prepare_cached(
            "SELECT job_key, environment, required_approvals, waiting_since, approval_deadline
             FROM jobs
             WHERE run_id = ?1 AND status = 'waiting' AND required_approvals > 0
               AND environment IS NOT NULL AND waiting_since IS NOT NULL
             ORDER BY position",
        )
        .and_then(|mut statement| {
            statement
                .query_map([run_id], |row| {
                    Ok(WaitingJob {
                        key: get_job_key(row, 0)?,
                        environment: row.get(1)?,
                        required: row.get(2)?,
                        since: get_u64(row, 3)?,
                        deadline: get_opt_u64(row, 4)?,
                    })
                })?
                .collect()
        })
        .map_err(|e| db.error("read the jobs waiting for approval", e))
}

fn decisions_since(
    db: &Database,
    run_id: i64,
    environment: &str,
    since: Timestamp,
) -> Result<Vec<Approval>, StoreError> {
    db.conn()
        .prepare_cached(
            "SELECT environment, decision, decided_by, comment, at FROM environment_approvals
             WHERE run_id = ?1 AND environment = ?2 AND at >= ?3 ORDER BY at, id",
        )
        .and_then(|mut statement| {
            statement
                .query_map(
                    params![run_id, environment, to_sql_u64(since)],
                    approval_from_row,
                )?
                .collect()
        })
        .map_err(|e| db.error("read approval decisions", e))
}

/// Every decision on the run, oldest first.
pub(crate) fn read_run_approvals(db: &Database, run_id: i64) -> Result<Vec<Approval>, StoreError> {
    db.conn()
        .prepare_cached(
            "SELECT environment, decision, decided_by, comment, at FROM environment_approvals
             WHERE run_id = ?1 ORDER BY at, id",
        )
        .and_then(|mut statement| statement.query_map([run_id], approval_from_row)?.collect())
        .map_err(|e| db.error("read the run's approval decisions", e))
}

fn approval_from_row(row: &Row<'_>) -> rusqlite::Result<Approval> {
    let decision: String = row.get(1)?;
    Ok(Approval {
        environment: row.get(0)?,
        decision: ApprovalDecision::parse(&decision).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                1,
                rusqlite::types::Type::Text,
                format!("unknown decision `{decision}`").into(),
            )
        })?,
        by: row.get(2)?,
        comment: row.get(3)?,
        at: get_u64(row, 4)?,
    })
}

/// Each approver once, in the order they approved.
fn approvers(decisions: &[Approval]) -> Vec<String> {
    let mut approvers: Vec<String> = Vec::new();
    for decision in decisions {
        if decision.decision == ApprovalDecision::Approve && !approvers.contains(&decision.by) {
            approvers.push(decision.by.clone());
        }
    }
    approvers
}
