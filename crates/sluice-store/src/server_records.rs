//! What a server keeps besides runs: API tokens (as digests), the
//! schedules it fired, and the notifications it sent.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use sluice_events::Timestamp;

use crate::error::StoreError;
use crate::history::History;
use crate::run_queries::find_run_id;

/// An API token, as listed (its secret is never kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// One notification sent (or given up on) about a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// The `[[notify]]` entry's name and the URL's origin (never its path,
    /// which may hold a credential).
    pub target: String,
    /// What it told: `failure`, `fixed`, `success`, ...
    pub reason: String,
    pub attempts: u32,
    pub delivered: bool,
    pub http_status: Option<u16>,
    pub error: Option<String>,
    pub at: Timestamp,
}

impl History {
    /// Keeps a token's digest under `name`; an existing name is an error
    /// (the caller revokes first), so a token is never silently replaced.
    pub fn add_token(&self, name: &str, digest: &str, at: Timestamp) -> Result<bool, StoreError> {
        self.db.write("add an API token", |db| {
            let added = db
                .execute(
                    "INSERT INTO api_tokens (name, digest, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (name) DO NOTHING",
                    params![name, digest, at as i64],
                )
                .map_err(|e| db.error("add an API token", e))?;
            Ok(added == 1)
        })
    }

    /// Removes token `name`; whether there was one.
    pub fn revoke_token(&self, name: &str) -> Result<bool, StoreError> {
        self.db.write("revoke an API token", |db| {
            let removed = db
                .execute("DELETE FROM api_tokens WHERE name = ?1", [name])
                .map_err(|e| db.error("revoke an API token", e))?;
            Ok(removed == 1)
        })
    }

    /// The name of the token with this digest, noting its use (at most
    /// once a minute). An unknown digest costs a read only: a flood of
    /// bad tokens takes no write lock from the runs being recorded.
    pub fn token_by_digest(
        &self,
        digest: &str,
        at: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        let found: Option<(String, Option<i64>)> = self
            .db
            .conn()
            .prepare_cached("SELECT name, last_used_at FROM api_tokens WHERE digest = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row([digest], |row| Ok((row.get(0)?, row.get(1)?)))
                    .optional()
            })
            .map_err(|e| self.db.error("check an API token", e))?;
        let Some((name, last_used)) = found else {
            return Ok(None);
        };
        if last_used.is_none_or(|last| at as i64 - last >= 60_000) {
            self.db.write("note an API token's use", |db| {
                db.execute(
                    "UPDATE api_tokens SET last_used_at = ?2 WHERE name = ?1",
                    params![name, at as i64],
                )
                .map_err(|e| db.error("note an API token's use", e))?;
                Ok(())
            })?;
        }
        Ok(Some(name))
    }

    /// Notes webhook delivery `id`; false when it was taken before (a
    /// redelivery, or a replay). Deliveries older than a week are
    /// forgotten.
    pub fn first_delivery(&self, id: &str, at: Timestamp) -> Result<bool, StoreError> {
        self.db.write("note a webhook delivery", |db| {
            db.execute(
                "DELETE FROM deliveries WHERE received_at < ?1",
                [at as i64 - 7 * 24 * 3_600_000],
            )
            .map_err(|e| db.error("forget old webhook deliveries", e))?;
            let added = db
                .execute(
                    "INSERT INTO deliveries (delivery_id, received_at) VALUES (?1, ?2)
                     ON CONFLICT (delivery_id) DO NOTHING",
                    params![id, at as i64],
                )
                .map_err(|e| db.error("note a webhook delivery", e))?;
            Ok(added == 1)
        })
    }

    /// Forgets delivery `id` (it was refused, and may be delivered again).
    pub fn forget_delivery(&self, id: &str) -> Result<(), StoreError> {
        self.db.write("forget a webhook delivery", |db| {
            db.execute("DELETE FROM deliveries WHERE delivery_id = ?1", [id])
                .map_err(|e| db.error("forget a webhook delivery", e))?;
            Ok(())
        })
    }

    /// Takes back a schedule's mark for `minute` (its run could not be
    /// queued, so the next look may try again).
    pub fn clear_schedule_mark(
        &self,
        repository: &str,
        workflow_path: &str,
        cron: &str,
        minute: Timestamp,
    ) -> Result<(), StoreError> {
        self.db.write("take back a schedule's mark", |db| {
            db.execute(
                "DELETE FROM schedule_marks
                 WHERE repository = ?1 AND workflow_path = ?2 AND cron = ?3 AND fired_minute = ?4",
                params![repository, workflow_path, cron, minute as i64],
            )
            .map_err(|e| db.error("take back a schedule's mark", e))?;
            Ok(())
        })
    }

    pub fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        let db = &self.db;
        db.conn()
            .prepare("SELECT name, created_at, last_used_at FROM api_tokens ORDER BY name")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| {
                        Ok(TokenRecord {
                            name: row.get(0)?,
                            created_at: row.get::<_, i64>(1)? as u64,
                            last_used_at: row.get::<_, Option<i64>>(2)?.map(|t| t as u64),
                        })
                    })?
                    .collect()
            })
            .map_err(|e| db.error("list API tokens", e))
    }

    /// Notes that schedule `cron` of a workflow fired for `minute`; false
    /// when it already had (a restart within the minute, another server).
    pub fn mark_schedule_fired(
        &self,
        repository: &str,
        workflow_path: &str,
        cron: &str,
        minute: Timestamp,
    ) -> Result<bool, StoreError> {
        self.db.write("note a schedule fired", |db| {
            let changed = db
                .execute(
                    "INSERT INTO schedule_marks (repository, workflow_path, cron, fired_minute)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (repository, workflow_path, cron) DO UPDATE
                         SET fired_minute = excluded.fired_minute
                         WHERE fired_minute < excluded.fired_minute",
                    params![repository, workflow_path, cron, minute as i64],
                )
                .map_err(|e| db.error("note a schedule fired", e))?;
            Ok(changed == 1)
        })
    }

    /// Records a notification about run `number`.
    pub fn record_notification(
        &self,
        repository: &str,
        number: u64,
        notification: &NotificationRecord,
    ) -> Result<(), StoreError> {
        self.db.write("record a notification", |db| {
            let run_id = find_run_id(db, repository, number)?;
            db.execute(
                "INSERT INTO notifications (run_id, target, reason, attempts, status, http_status,
                                            error, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    run_id,
                    notification.target,
                    notification.reason,
                    notification.attempts,
                    if notification.delivered {
                        "delivered"
                    } else {
                        "failed"
                    },
                    notification.http_status,
                    notification.error,
                    notification.at as i64
                ],
            )
            .map_err(|e| db.error("record a notification", e))?;
            Ok(())
        })
    }

    /// The notifications sent about run `number`, oldest first.
    pub fn notifications(
        &self,
        repository: &str,
        number: u64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        self.db.read("read notifications", |db| {
            let run_id = find_run_id(db, repository, number)?;
            db.conn()
                .prepare(
                    "SELECT target, reason, attempts, status, http_status, error, at
                     FROM notifications WHERE run_id = ?1 ORDER BY id",
                )
                .and_then(|mut statement| {
                    statement
                        .query_map([run_id], |row| {
                            Ok(NotificationRecord {
                                target: row.get(0)?,
                                reason: row.get(1)?,
                                attempts: row.get(2)?,
                                delivered: row.get::<_, String>(3)? == "delivered",
                                http_status: row.get(4)?,
                                error: row.get(5)?,
                                at: row.get::<_, i64>(6)? as u64,
                            })
                        })?
                        .collect()
                })
                .map_err(|e| db.error("read notifications", e))
        })
    }

    /// Another handle on the same history (its own connection), for a
    /// thread that polls while this one records; recovers nothing.
    pub fn reopen(&self) -> Result<History, StoreError> {
        History::open_without_recovery(self.state_dir())
    }
}
