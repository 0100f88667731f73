//! Runs whose recording process died: finding them, importing what their
//! spool files hold, and marking them `interrupted`.

use std::collections::BTreeSet;
use std::path::Path;

use rusqlite::{OptionalExtension, params};
use sluice_events::Timestamp;

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::log_store;
use crate::process_identity::{Liveness, ProcessIdentity};
use crate::records::RecoveredRun;
use crate::spool;
use crate::status::Status;

impl History {
    /// Marks every `running` run whose process is gone as `interrupted`
    /// (with its running jobs and steps), imports the log lines its spool
    /// files kept, and returns those runs. Also imports and removes spool
    /// files a finished run left behind. Runs of live processes are not
    /// touched. [`History::open`] calls this; long-lived processes may call
    /// it again.
    pub fn recover_interrupted(&self) -> Result<Vec<RecoveredRun>, StoreError> {
        let spool_root = self.spool_root();
        let mut candidates: BTreeSet<i64> = running_run_ids(&self.db)?.into_iter().collect();
        candidates.extend(spool::list_spooled_runs(&spool_root)?);
        let mut recovered = Vec::new();
        for run_id in candidates {
            recovered.extend(recover_run(&self.db, &spool_root, run_id)?);
        }
        Ok(recovered)
    }
}

fn running_run_ids(db: &Database) -> Result<Vec<i64>, StoreError> {
    let mut statement = db
        .conn()
        // Also runs a `sluice run` queued and waits for: if it died, they
        // would block their concurrency group.
        .prepare(
            "SELECT id FROM runs
             WHERE status = 'running' OR (status = 'queued' AND owner_pid IS NOT NULL)",
        )
        .map_err(|e| db.error("list running runs", e))?;
    statement
        .query_map([], |row| row.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| db.error("list running runs", e))
}

enum Verdict {
    /// Its process still runs: leave everything alone.
    Live,
    /// Nothing (more) to keep: the spool directory can go.
    Done,
    Recovered(RecoveredRun),
}

fn recover_run(
    db: &Database,
    spool_root: &Path,
    run_id: i64,
) -> Result<Option<RecoveredRun>, StoreError> {
    let dir = spool::run_spool_dir(spool_root, run_id);
    // One transaction per run, under the write lock: two processes
    // recovering at once serialize here, and the second finds the run no
    // longer `running` and its files already imported.
    let verdict = db.write("recover an interrupted run", |db| {
        let row = db
            .conn()
            .query_row(
                "SELECT repository, number, workflow, status, owner_pid, owner_start_ticks,
                        owner_boot_id, owner_pid_namespace
                 FROM runs WHERE id = ?1",
                [run_id],
                |row| {
                    let owner = ProcessIdentity {
                        pid: row.get::<_, Option<u32>>(4)?.unwrap_or(0),
                        start_ticks: row.get::<_, Option<i64>>(5)?.map(|ticks| ticks as u64),
                        boot_id: row.get(6)?,
                        pid_namespace: row.get(7)?,
                    };
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, i64>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, Status>(3)?,
                        row.get::<_, Option<u32>>(4)?.map(|_| owner),
                    ))
                },
            )
            .optional()
            .map_err(|e| db.error(format!("read run id {run_id}"), e))?;
        // A spool directory without a run row belongs to no history.
        let Some((repository, number, workflow, status, owner)) = row else {
            return Ok(Verdict::Done);
        };
        // A run without an owner waits for any server: nothing died.
        if owner.is_none_or(|owner| owner.liveness() != Liveness::Gone) {
            return Ok(Verdict::Live);
        }
        let mut lines = 0;
        let mut last_at = None;
        for path in spool::list_spool_files(&dir)? {
            if let Some(chunk) = log_store::import_spool_file(db, run_id, &path)? {
                lines += chunk.lines;
                last_at = last_at.max(chunk.last_at);
            }
        }
        if !matches!(status, Status::Running | Status::Queued) {
            return Ok(Verdict::Done);
        }
        mark_interrupted(db, run_id, last_at)?;
        Ok(Verdict::Recovered(RecoveredRun {
            repository,
            number: number as u64,
            workflow,
            recovered_lines: lines,
        }))
    })?;
    match verdict {
        Verdict::Live => Ok(None),
        Verdict::Done => {
            spool::remove_run_dir(&dir);
            Ok(None)
        }
        Verdict::Recovered(run) => {
            spool::remove_run_dir(&dir);
            Ok(Some(run))
        }
    }
}

/// Marks a run still `running`, and its running jobs and steps, as
/// `interrupted`, ending them at the last moment the history knows of
/// (`seen_at` adds one the caller knows, such as the last spooled line).
/// Call inside a write transaction.
pub(crate) fn mark_interrupted(
    db: &Database,
    run_id: i64,
    seen_at: Option<Timestamp>,
) -> Result<(), StoreError> {
    let last_known: Option<i64> = db
        .conn()
        .query_row(
            "SELECT MAX(at) FROM (
                 SELECT COALESCE(started_at, queued_at) AS at FROM runs WHERE id = ?1
                 UNION ALL SELECT MAX(started_at) FROM jobs WHERE run_id = ?1
                 UNION ALL SELECT MAX(finished_at) FROM jobs WHERE run_id = ?1
                 UNION ALL SELECT MAX(started_at) FROM steps WHERE run_id = ?1
                 UNION ALL SELECT MAX(finished_at) FROM steps WHERE run_id = ?1
                 UNION ALL SELECT MAX(at) FROM annotations WHERE run_id = ?1
                 UNION ALL SELECT MAX(at) FROM step_summaries WHERE run_id = ?1
                 UNION ALL SELECT MAX(last_at) FROM logs WHERE run_id = ?1
             )",
            [run_id],
            |row| row.get(0),
        )
        .map_err(|e| db.error("find when an interrupted run was last active", e))?;
    let ended_at = last_known
        .max(seen_at.map(crate::sql_values::to_sql_u64))
        .unwrap_or(0);
    let statements = [
        (
            "steps",
            "UPDATE steps SET status = ?3, finished_at = ?2, duration_ms = MAX(?2 - started_at, 0)
                   WHERE run_id = ?1 AND status = ?4",
        ),
        (
            "jobs",
            "UPDATE jobs SET status = ?3, finished_at = ?2, duration_ms = MAX(?2 - started_at, 0)
                  WHERE run_id = ?1 AND status = ?4",
        ),
        (
            "run",
            "UPDATE runs SET status = ?3, finished_at = ?2, duration_ms = MAX(?2 - started_at, 0)
                 WHERE id = ?1 AND status = ?4",
        ),
    ];
    for (what, sql) in statements {
        db.conn()
            .execute(
                sql,
                params![run_id, ended_at, Status::Interrupted, Status::Running],
            )
            .map_err(|e| db.error(format!("mark the {what} of run id {run_id} interrupted"), e))?;
    }
    // A job held for approval, and a deployment under way, end with it.
    db.conn()
        .execute(
            "UPDATE jobs SET status = 'interrupted', finished_at = ?2
             WHERE run_id = ?1 AND status = 'waiting'",
            params![run_id, ended_at],
        )
        .map_err(|e| {
            db.error(
                format!("mark the waiting jobs of run id {run_id} interrupted"),
                e,
            )
        })?;
    db.conn()
        .execute(
            "UPDATE environment_deployments SET status = 'interrupted', finished_at = ?2
             WHERE run_id = ?1 AND status = 'running'",
            params![run_id, ended_at],
        )
        .map_err(|e| {
            db.error(
                format!("mark the deployments of run id {run_id} interrupted"),
                e,
            )
        })?;
    // One that never started ends where it was queued.
    db.conn()
        .execute(
            "UPDATE runs SET status = 'interrupted', finished_at = MAX(queued_at, ?2)
             WHERE id = ?1 AND status = 'queued'",
            params![run_id, ended_at],
        )
        .map_err(|e| db.error(format!("mark queued run id {run_id} interrupted"), e))?;
    Ok(())
}
