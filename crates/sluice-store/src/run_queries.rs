//! Reading runs back: the list, one run in full, its step summaries.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Row, params};
use sluice_events::JobKey;

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::records::{
    AnnotationRecord, JobRecord, RunDetail, RunSummary, StepRecord, StepSummaryRecord, WaitRecord,
};
use crate::sql_values::{
    get_annotation_level, get_job_key, get_job_keys, get_json, get_opt_outcome, get_opt_u64,
    get_opt_usize, get_u64,
};
use crate::status::Status;

/// Which runs [`History::list_runs`] returns: the newest `limit` of those
/// matching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunQuery {
    /// Only this repository's runs (all repositories sharing the state
    /// directory when `None`).
    pub repository: Option<String>,
    /// Only runs of the workflow with this name or file path.
    pub workflow: Option<String>,
    /// Only runs of this ref (`refs/heads/main`).
    pub git_ref: Option<String>,
    pub status: Option<Status>,
    /// Only runs triggered by this event (`push`).
    pub event: Option<String>,
    pub limit: usize,
}

impl Default for RunQuery {
    fn default() -> Self {
        RunQuery {
            repository: None,
            workflow: None,
            git_ref: None,
            status: None,
            event: None,
            limit: 20,
        }
    }
}

const SUMMARY_COLUMNS: &str = "number, repository, workflow, workflow_path, event, git_ref, sha, \
                               status, started_at, finished_at, duration_ms, exit_code, queued_at";

fn summary_from_row(row: &Row<'_>) -> rusqlite::Result<RunSummary> {
    Ok(RunSummary {
        number: get_u64(row, 0)?,
        repository: row.get(1)?,
        workflow: row.get(2)?,
        workflow_path: row.get(3)?,
        event: row.get(4)?,
        git_ref: row.get(5)?,
        sha: row.get(6)?,
        status: row.get(7)?,
        queued_at: get_u64(row, 12)?,
        started_at: get_opt_u64(row, 8)?,
        finished_at: get_opt_u64(row, 9)?,
        duration_ms: get_opt_u64(row, 10)?,
        exit_code: row.get(11)?,
    })
}

impl History {
    /// The newest runs first (by when they were asked for).
    pub fn list_runs(&self, query: &RunQuery) -> Result<Vec<RunSummary>, StoreError> {
        let db = &self.db;
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM runs
             WHERE (?1 IS NULL OR repository = ?1)
               AND (?2 IS NULL OR workflow = ?2 OR workflow_path = ?2)
               AND (?4 IS NULL OR git_ref = ?4)
               AND (?5 IS NULL OR status = ?5)
               AND (?6 IS NULL OR event = ?6)
             ORDER BY queued_at DESC, id DESC
             LIMIT ?3"
        );
        let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
        db.conn()
            .prepare_cached(&sql)
            .and_then(|mut statement| {
                statement
                    .query_map(
                        params![
                            query.repository,
                            query.workflow,
                            limit,
                            query.git_ref,
                            query.status,
                            query.event
                        ],
                        summary_from_row,
                    )?
                    .collect()
            })
            .map_err(|e| db.error("list runs", e))
    }

    /// The number of the newest run of `repository`, if it has any.
    pub fn latest_run_number(&self, repository: &str) -> Result<Option<u64>, StoreError> {
        let db = &self.db;
        db.conn()
            .query_row(
                "SELECT MAX(number) FROM runs WHERE repository = ?1",
                [repository],
                |row| get_opt_u64(row, 0),
            )
            .map_err(|e| db.error("find the latest run", e))
    }

    /// Run `number` of `repository` with its jobs, steps, annotations and
    /// step summaries.
    pub fn run(&self, repository: &str, number: u64) -> Result<RunDetail, StoreError> {
        self.db.read("read a run", |db| {
            let (run_id, summary, critical_path) = db
                .conn()
                .query_row(
                    &format!(
                        "SELECT {SUMMARY_COLUMNS}, id, critical_path FROM runs
                         WHERE repository = ?1 AND number = ?2"
                    ),
                    params![repository, number as i64],
                    |row| {
                        Ok((
                            row.get::<_, i64>(13)?,
                            summary_from_row(row)?,
                            get_json(row, 14)?,
                        ))
                    },
                )
                .optional()
                .map_err(|e| db.error(format!("read run #{number}"), e))?
                .ok_or_else(|| no_such_run(repository, number))?;
            Ok(RunDetail {
                summary,
                critical_path,
                jobs: read_jobs(db, run_id)?,
                annotations: read_annotations(db, run_id)?,
                step_summaries: read_step_summaries(db, run_id)?,
                actions: crate::action_queries::read_actions(db, run_id)?,
                approvals: crate::approval_records::read_run_approvals(db, run_id)?,
                deployments: crate::deployment_records::read_run_deployments(db, run_id)?,
            })
        })
    }

    /// What the steps of run `number` wrote to `GITHUB_STEP_SUMMARY`, in
    /// the order written.
    pub fn step_summaries(
        &self,
        repository: &str,
        number: u64,
    ) -> Result<Vec<StepSummaryRecord>, StoreError> {
        self.db.read("read step summaries", |db| {
            let run_id = find_run_id(db, repository, number)?;
            read_step_summaries(db, run_id)
        })
    }
}

pub(crate) fn no_such_run(repository: &str, number: u64) -> StoreError {
    StoreError::NoSuchRun {
        repository: repository.to_owned(),
        number,
    }
}

pub(crate) fn find_run_id(db: &Database, repository: &str, number: u64) -> Result<i64, StoreError> {
    db.conn()
        .query_row(
            "SELECT id FROM runs WHERE repository = ?1 AND number = ?2",
            params![repository, number as i64],
            |row| row.get(0),
        )
        .optional()
        .map_err(|e| db.error(format!("find run #{number}"), e))?
        .ok_or_else(|| no_such_run(repository, number))
}

fn read_jobs(db: &Database, run_id: i64) -> Result<Vec<JobRecord>, StoreError> {
    let fail = |e| db.error("read jobs", e);
    let mut statement = db
        .conn()
        .prepare_cached(
            "SELECT job_key, job_id, name, needs, status, skip_reason, started_at, finished_at,
                    duration_ms, outputs, environment, required_approvals, waiting_since,
                    approval_deadline
             FROM jobs WHERE run_id = ?1 ORDER BY position",
        )
        .map_err(fail)?;
    let mut jobs: Vec<JobRecord> = statement
        .query_map([run_id], |row| {
            Ok(JobRecord {
                key: get_job_key(row, 0)?,
                id: row.get(1)?,
                name: row.get(2)?,
                needs: get_job_keys(row, 3)?,
                status: row.get(4)?,
                skip_reason: row.get(5)?,
                started_at: get_opt_u64(row, 6)?,
                finished_at: get_opt_u64(row, 7)?,
                duration_ms: get_opt_u64(row, 8)?,
                outputs: get_json(row, 9)?,
                environment: row.get(10)?,
                waiting: wait_from_row(row)?,
                steps: Vec::new(),
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| db.error("read jobs", e))?;

    let position: HashMap<JobKey, usize> = jobs
        .iter()
        .enumerate()
        .map(|(position, job)| (job.key.clone(), position))
        .collect();
    let mut statement = db
        .conn()
        .prepare_cached(
            "SELECT job_key, step_index, step_id, name, status, outcome, conclusion, exit_code,
                    started_at, finished_at, duration_ms, cached
             FROM steps WHERE run_id = ?1 ORDER BY job_key, step_index",
        )
        .map_err(|e| db.error("read steps", e))?;
    let steps = statement
        .query_map([run_id], |row| {
            let job: String = row.get(0)?;
            let step = StepRecord {
                index: get_u64(row, 1)? as usize,
                id: row.get(2)?,
                name: row.get(3)?,
                status: row.get(4)?,
                outcome: get_opt_outcome(row, 5)?,
                conclusion: get_opt_outcome(row, 6)?,
                exit_code: row.get(7)?,
                started_at: get_opt_u64(row, 8)?,
                finished_at: get_opt_u64(row, 9)?,
                duration_ms: get_opt_u64(row, 10)?,
                cached: row.get(11)?,
            };
            Ok((job, step))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| db.error("read steps", e))?;
    for (job, step) in steps {
        // The foreign key guarantees the job exists.
        if let Some(&position) = position.get(job.as_str()) {
            jobs[position].steps.push(step);
        }
    }
    Ok(jobs)
}

/// What a job waits for, read only while it waits.
fn wait_from_row(row: &Row<'_>) -> rusqlite::Result<Option<WaitRecord>> {
    let status: Status = row.get(4)?;
    let Some(since) = get_opt_u64(row, 12)?.filter(|_| status == Status::Waiting) else {
        return Ok(None);
    };
    Ok(Some(WaitRecord {
        required_approvals: row.get(11)?,
        since,
        approval_deadline: get_opt_u64(row, 13)?,
    }))
}

fn read_annotations(db: &Database, run_id: i64) -> Result<Vec<AnnotationRecord>, StoreError> {
    db.conn()
        .prepare_cached(
            "SELECT job_key, step_index, level, message, file, line, col, title, at
             FROM annotations WHERE run_id = ?1 ORDER BY id",
        )
        .and_then(|mut statement| {
            statement
                .query_map([run_id], |row| {
                    Ok(AnnotationRecord {
                        job: get_job_key(row, 0)?,
                        step: get_opt_usize(row, 1)?,
                        level: get_annotation_level(row, 2)?,
                        message: row.get(3)?,
                        file: row.get(4)?,
                        line: row.get(5)?,
                        col: row.get(6)?,
                        title: row.get(7)?,
                        at: get_u64(row, 8)?,
                    })
                })?
                .collect()
        })
        .map_err(|e| db.error("read annotations", e))
}

fn read_step_summaries(db: &Database, run_id: i64) -> Result<Vec<StepSummaryRecord>, StoreError> {
    db.conn()
        .prepare_cached(
            "SELECT summary.job_key, COALESCE(job.name, summary.job_key), summary.step_index,
                    COALESCE(NULLIF(step.name, ''), step.step_id, ''), summary.markdown, summary.at
             FROM step_summaries AS summary
             LEFT JOIN jobs AS job
                 ON job.run_id = summary.run_id AND job.job_key = summary.job_key
             LEFT JOIN steps AS step
                 ON step.run_id = summary.run_id AND step.job_key = summary.job_key
                    AND step.step_index = summary.step_index
             WHERE summary.run_id = ?1
             ORDER BY summary.id",
        )
        .and_then(|mut statement| {
            statement
                .query_map([run_id], |row| {
                    Ok(StepSummaryRecord {
                        job: get_job_key(row, 0)?,
                        job_name: row.get(1)?,
                        step: get_u64(row, 2)? as usize,
                        step_name: row.get(3)?,
                        markdown: row.get(4)?,
                        at: get_u64(row, 5)?,
                    })
                })?
                .collect()
        })
        .map_err(|e| db.error("read step summaries", e))
}
