//! Deployments to environments: one row per job instance with
//! `environment:` that passed its protection rules, with the commit it
//! deployed, the commit the environment had before (the range it ships),
//! its url and how it ended.

use rusqlite::{Row, params};
use serde::{Deserialize, Serialize};
use sluice_events::{JobKey, Outcome, Timestamp};

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::sql_values::{get_job_key, get_opt_u64, get_u64, to_sql_u64};
use crate::status::Status;

/// One deployment of a run's commit to an environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub environment: String,
    /// The run's number.
    pub run: u64,
    pub workflow: String,
    pub job: JobKey,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
    /// The commit of the environment's latest successful deployment when
    /// this one started: the range `previous_sha..sha` is what it ships.
    pub previous_sha: Option<String>,
    pub url: Option<String>,
    /// `running` until the job ends, then its result.
    pub status: Status,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
}

impl DeploymentRecord {
    /// The first 7 characters of the commit deployed.
    pub fn short_sha(&self) -> &str {
        self.sha.get(..7).unwrap_or(&self.sha)
    }

    /// The first 7 characters of the commit it replaced, if any.
    pub fn short_previous_sha(&self) -> Option<&str> {
        self.previous_sha
            .as_deref()
            .map(|sha| sha.get(..7).unwrap_or(sha))
    }
}

/// Which deployments [`History::deployments`] returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentQuery {
    pub repository: String,
    /// Only this environment's (any case); `None`: every environment's.
    pub environment: Option<String>,
    /// The newest this many per environment.
    pub limit: usize,
}

const COLUMNS: &str = "d.environment, r.number, r.workflow, d.job_key, r.git_ref, d.sha, \
                       d.previous_sha, d.url, d.status, d.started_at, d.finished_at";

fn record_from_row(row: &Row<'_>) -> rusqlite::Result<DeploymentRecord> {
    Ok(DeploymentRecord {
        environment: row.get(0)?,
        run: get_u64(row, 1)?,
        workflow: row.get(2)?,
        job: get_job_key(row, 3)?,
        git_ref: row.get(4)?,
        sha: row.get(5)?,
        previous_sha: row.get(6)?,
        url: row.get(7)?,
        status: row.get(8)?,
        started_at: get_u64(row, 9)?,
        finished_at: get_opt_u64(row, 10)?,
    })
}

impl History {
    /// Deployments by environment (in order of name), newest first within
    /// each.
    pub fn deployments(
        &self,
        query: &DeploymentQuery,
    ) -> Result<Vec<DeploymentRecord>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM (
                 SELECT *, ROW_NUMBER() OVER (
                     PARTITION BY environment ORDER BY started_at DESC, id DESC) AS place
                 FROM environment_deployments
                 WHERE repository = ?1 AND (?2 IS NULL OR environment = ?2)
             ) AS d JOIN runs AS r ON r.id = d.run_id
             WHERE d.place <= ?3
             ORDER BY d.environment COLLATE NOCASE, d.started_at DESC, d.id DESC"
        );
        self.db.read("read deployments", |db| {
            db.conn()
                .prepare_cached(&sql)
                .and_then(|mut statement| {
                    statement
                        .query_map(
                            params![
                                query.repository,
                                query.environment,
                                to_sql_u64(query.limit as u64)
                            ],
                            record_from_row,
                        )?
                        .collect()
                })
                .map_err(|e| db.error("read deployments", e))
        })
    }
}

/// What run id `run_id` deployed, in the order it started.
pub(crate) fn read_run_deployments(
    db: &Database,
    run_id: i64,
) -> Result<Vec<DeploymentRecord>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM environment_deployments AS d JOIN runs AS r ON r.id = d.run_id
         WHERE d.run_id = ?1 ORDER BY d.started_at, d.id"
    );
    db.conn()
        .prepare_cached(&sql)
        .and_then(|mut statement| statement.query_map([run_id], record_from_row)?.collect())
        .map_err(|e| db.error("read the run's deployments", e))
}

/// A job of run id `run_id` starts deploying the run's commit to
/// `environment`: the row, with the commit the environment had.
pub(crate) fn record_started(
    db: &Database,
    run_id: i64,
    repository: &str,
    job: &JobKey,
    environment: &str,
    at: Timestamp,
) -> Result<(), StoreError> {
    let fail = |e| {
        db.error(
            format!("record the deployment of {job} to {environment}"),
            e,
        )
    };
    db.execute(
        "INSERT INTO environment_deployments (repository, run_id, job_key, environment, sha,
                                              previous_sha, status, started_at)
         SELECT ?1, ?2, ?3, ?4, runs.sha,
                (SELECT sha FROM environment_deployments
                  WHERE repository = ?1 AND environment = ?4 AND status = 'success'
                  ORDER BY finished_at DESC, id DESC LIMIT 1),
                'running', ?5
         FROM runs WHERE runs.id = ?2
         ON CONFLICT (run_id, job_key) DO UPDATE SET
             environment = excluded.environment, status = 'running',
             started_at = excluded.started_at, finished_at = NULL",
        params![
            repository,
            run_id,
            job.as_str(),
            environment,
            to_sql_u64(at)
        ],
    )
    .map_err(fail)?;
    db.execute(
        "UPDATE jobs SET environment = ?3 WHERE run_id = ?1 AND job_key = ?2",
        params![run_id, job.as_str(), environment],
    )
    .map_err(fail)?;
    Ok(())
}

/// The deployment of `job` ended.
pub(crate) fn record_finished(
    db: &Database,
    run_id: i64,
    job: &JobKey,
    url: Option<&str>,
    result: Outcome,
    at: Timestamp,
) -> Result<(), StoreError> {
    db.execute(
        "UPDATE environment_deployments SET status = ?3, url = ?4, finished_at = ?5
         WHERE run_id = ?1 AND job_key = ?2",
        params![
            run_id,
            job.as_str(),
            Status::from(result),
            url,
            to_sql_u64(at)
        ],
    )
    .map_err(|e| db.error(format!("record the end of the deployment of {job}"), e))?;
    Ok(())
}
