//! Deploys of apps (`sluice deploy`, `sluice rollback`): one row each,
//! read back for `sluice deploys` and the DORA figures.

use rusqlite::{OptionalExtension, Row, params};

use crate::error::StoreError;
use crate::history::History;
use crate::sql_values::{get_json, get_opt_u64, get_u64, to_json, to_sql_u64};

/// One deploy as the history keeps it. Times are milliseconds since the
/// epoch; durations milliseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AppDeployRecord {
    pub id: i64,
    pub app: String,
    pub kind: String,
    pub version: String,
    pub colour: String,
    pub previous_version: Option<String>,
    pub commit_sha: Option<String>,
    pub outcome: String,
    pub reason: Option<String>,
    pub started_at: u64,
    pub ready_ms: Option<u64>,
    pub switched_at: Option<u64>,
    pub finished_at: u64,
    pub restored_at: Option<u64>,
    pub breach_to_restore_ms: Option<u64>,
    pub watch_requests: Option<u64>,
    pub watch_errors: Option<u64>,
    pub watch_p95_ms: Option<f64>,
    pub watch_verdict: Option<String>,
    pub drained: Option<bool>,
    pub run_id: Option<i64>,
    pub commit_times: Vec<u64>,
}

const COLUMNS: &str =
    "id, app, kind, version, colour, previous_version, commit_sha, outcome, reason,
     started_at, ready_ms, switched_at, finished_at, restored_at, breach_to_restore_ms,
     watch_requests, watch_errors, watch_p95_ms, watch_verdict, drained, run_id, commit_times";

fn read_row(row: &Row<'_>) -> rusqlite::Result<AppDeployRecord> {
    Ok(AppDeployRecord {
        id: row.get(0)?,
        app: row.get(1)?,
        kind: row.get(2)?,
        version: row.get(3)?,
        colour: row.get(4)?,
        previous_version: row.get(5)?,
        commit_sha: row.get(6)?,
        outcome: row.get(7)?,
        reason: row.get(8)?,
        started_at: get_u64(row, 9)?,
        ready_ms: get_opt_u64(row, 10)?,
        switched_at: get_opt_u64(row, 11)?,
        finished_at: get_u64(row, 12)?,
        restored_at: get_opt_u64(row, 13)?,
        breach_to_restore_ms: get_opt_u64(row, 14)?,
        watch_requests: get_opt_u64(row, 15)?,
        watch_errors: get_opt_u64(row, 16)?,
        watch_p95_ms: row.get(17)?,
        watch_verdict: row.get(18)?,
        drained: row.get(19)?,
        run_id: row.get(20)?,
        commit_times: get_json(row, 21)?,
    })
}

impl History {
    /// Records a deploy; `id` is ignored. Returns the new row's id.
    pub fn record_app_deploy(&self, record: &AppDeployRecord) -> Result<i64, StoreError> {
        let opt = |v: Option<u64>| v.map(to_sql_u64);
        self.db.write("record a deploy", |db| {
            db.execute(
                "INSERT INTO app_deploys (app, kind, version, colour, previous_version, commit_sha, outcome,
                     reason, started_at, ready_ms, switched_at, finished_at, restored_at,
                     breach_to_restore_ms, watch_requests, watch_errors, watch_p95_ms, watch_verdict,
                     drained, run_id, commit_times)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
                     ?19, ?20, ?21)",
                params![
                    record.app,
                    record.kind,
                    record.version,
                    record.colour,
                    record.previous_version,
                    record.commit_sha,
                    record.outcome,
                    record.reason,
                    to_sql_u64(record.started_at),
                    opt(record.ready_ms),
                    opt(record.switched_at),
                    to_sql_u64(record.finished_at),
                    opt(record.restored_at),
                    opt(record.breach_to_restore_ms),
                    opt(record.watch_requests),
                    opt(record.watch_errors),
                    record.watch_p95_ms,
                    record.watch_verdict,
                    record.drained,
                    record.run_id,
                    to_json(&record.commit_times),
                ],
            )
            .map_err(|e| db.error("record a deploy", e))?;
            Ok(db.conn().last_insert_rowid())
        })
    }

    /// Deploys newest first, of one app or all, at most `limit`.
    pub fn app_deploys(
        &self,
        app: Option<&str>,
        limit: usize,
    ) -> Result<Vec<AppDeployRecord>, StoreError> {
        self.db.read("read deploys", |db| {
            db.conn()
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM app_deploys WHERE ?1 IS NULL OR app = ?1
                     ORDER BY started_at DESC, id DESC LIMIT ?2"
                ))
                .and_then(|mut s| s.query_map(params![app, limit as i64], read_row)?.collect())
                .map_err(|e| db.error("read deploys", e))
        })
    }

    /// The commit of the app's latest deploy that went live and stayed.
    pub fn last_live_commit(&self, app: &str) -> Result<Option<String>, StoreError> {
        self.db.read("read the live commit", |db| {
            db.conn()
                .query_row(
                    "SELECT commit_sha FROM app_deploys
                     WHERE app = ?1 AND commit_sha IS NOT NULL AND kind = 'deploy'
                       AND outcome IN ('succeeded', 'inconclusive', 'breached', 'rolled-back-by-hand')
                     ORDER BY started_at DESC, id DESC LIMIT 1",
                    params![app],
                    |row| row.get(0),
                )
                .optional()
                .map_err(|e| db.error("read the live commit", e))
        })
    }

    /// A `sluice rollback` undid the app's latest live deploy of
    /// `version`: it counts as a failed change, restored at `restored_at`.
    pub fn mark_rolled_back_by_hand(
        &self,
        app: &str,
        version: &str,
        restored_at: u64,
    ) -> Result<bool, StoreError> {
        self.db.write("mark a deploy rolled back", |db| {
            let changed = db
                .execute(
                    "UPDATE app_deploys SET outcome = 'rolled-back-by-hand', restored_at = ?3
                     WHERE id = (SELECT id FROM app_deploys
                                 WHERE app = ?1 AND version = ?2 AND kind = 'deploy'
                                   AND outcome IN ('succeeded', 'inconclusive', 'breached')
                                 ORDER BY started_at DESC, id DESC LIMIT 1)",
                    params![app, version, to_sql_u64(restored_at)],
                )
                .map_err(|e| db.error("mark a deploy rolled back", e))?;
            Ok(changed > 0)
        })
    }
}
