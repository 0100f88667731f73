//! Jobs with `concurrency:`: where each stands in its group, across the
//! runs and processes sharing a state directory. The same rules as runs
//! (see `queue.rs`): one running and one waiting per group, the newer
//! waiting job replacing the older unless the group queues, and
//! `cancel-in-progress` asking the running one to stop.

use rusqlite::{OptionalExtension, params};
use sluice_events::JobKey;

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::queue::GroupMembership;

/// Where a job stands in its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobTurn {
    /// It may run (and now counts as the group's running job).
    Run,
    /// Another job of the group runs (or waited longer, in a queueing group).
    Wait,
    /// A newer job took its place while it waited: it will not run.
    Replaced,
    /// It runs, and a newer job with `cancel-in-progress` asked it to stop.
    StopRequested,
}

impl History {
    /// Enters job `job` of run `run_id` into its group, waiting.
    pub fn join_job_group(
        &self,
        run_id: i64,
        job: &JobKey,
        repository: &str,
        membership: &GroupMembership,
    ) -> Result<(), StoreError> {
        self.db.write("enter a job's concurrency group", |db| {
            let waiting_state = if membership.keep_waiting {
                "pending"
            } else {
                "replaced"
            };
            db.execute(
                "UPDATE job_concurrency SET state = ?3
                 WHERE repository = ?1 AND concurrency_group = ?2 AND state = 'pending'",
                params![repository, membership.group, waiting_state],
            )
            .map_err(|e| db.error("replace a waiting job", e))?;
            if membership.cancel_in_progress {
                db.execute(
                    "UPDATE job_concurrency SET cancel_requested = 1
                     WHERE repository = ?1 AND concurrency_group = ?2 AND state = 'running'",
                    params![repository, membership.group],
                )
                .map_err(|e| db.error("ask a running job to stop", e))?;
            }
            db.execute(
                "INSERT INTO job_concurrency (run_id, job_key, repository, concurrency_group,
                                              state, since)
                 VALUES (?1, ?2, ?3, ?4, 'pending', ?5)
                 ON CONFLICT (run_id, job_key) DO UPDATE SET
                     concurrency_group = excluded.concurrency_group, state = 'pending',
                     cancel_requested = 0, since = excluded.since",
                params![
                    run_id,
                    job.as_str(),
                    repository,
                    membership.group,
                    crate::timestamp::now_ms() as i64
                ],
            )
            .map_err(|e| db.error("enter a job's concurrency group", e))?;
            Ok(())
        })
    }

    /// Where job `job` of run `run_id` stands now; a waiting job whose
    /// turn has come is marked running.
    pub fn job_turn(&self, run_id: i64, job: &JobKey) -> Result<JobTurn, StoreError> {
        self.db.write("read a job's turn", |db| {
            let Some((state, cancel, repository, group)) = read_member(db, run_id, job)? else {
                // Not a member (never joined, or already left): nothing holds it.
                return Ok(JobTurn::Run);
            };
            match state.as_str() {
                "replaced" => Ok(JobTurn::Replaced),
                "running" if cancel => Ok(JobTurn::StopRequested),
                "running" => Ok(JobTurn::Run),
                _ if turn_has_come(db, run_id, job, &repository, &group)? => {
                    db.execute(
                        "UPDATE job_concurrency SET state = 'running'
                         WHERE run_id = ?1 AND job_key = ?2",
                        params![run_id, job.as_str()],
                    )
                    .map_err(|e| db.error("start a job of a concurrency group", e))?;
                    Ok(JobTurn::Run)
                }
                _ => Ok(JobTurn::Wait),
            }
        })
    }

    /// Takes job `job` of run `run_id` out of its group (it finished, or
    /// will not run).
    pub fn leave_job_group(&self, run_id: i64, job: &JobKey) -> Result<(), StoreError> {
        self.db.write("leave a job's concurrency group", |db| {
            db.execute(
                "DELETE FROM job_concurrency WHERE run_id = ?1 AND job_key = ?2",
                params![run_id, job.as_str()],
            )
            .map_err(|e| db.error("leave a job's concurrency group", e))?;
            Ok(())
        })
    }
}

fn read_member(
    db: &Database,
    run_id: i64,
    job: &JobKey,
) -> Result<Option<(String, bool, String, String)>, StoreError> {
    db.conn()
        .query_row(
            "SELECT state, cancel_requested, repository, concurrency_group FROM job_concurrency
             WHERE run_id = ?1 AND job_key = ?2",
            params![run_id, job.as_str()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .optional()
        .map_err(|e| db.error("read a job's concurrency group", e))
}

/// No other job of the group runs, and none waited longer (members of
/// runs that are over, or whose process died, hold nothing).
fn turn_has_come(
    db: &Database,
    run_id: i64,
    job: &JobKey,
    repository: &str,
    group: &str,
) -> Result<bool, StoreError> {
    let ahead: i64 = db
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM job_concurrency m
             JOIN runs r ON r.id = m.run_id AND r.status = 'running'
             WHERE m.repository = ?1 AND m.concurrency_group = ?2
               AND NOT (m.run_id = ?3 AND m.job_key = ?4)
               AND (m.state = 'running'
                    OR (m.state = 'pending' AND m.since < (
                        SELECT since FROM job_concurrency WHERE run_id = ?3 AND job_key = ?4)))",
            params![repository, group, run_id, job.as_str()],
            |row| row.get(0),
        )
        .map_err(|e| db.error("read a job's concurrency group", e))?;
    Ok(ahead == 0)
}
