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

    /// The name of the token with this digest, noting its use.
    pub fn token_by_digest(
        &self,
        digest: &str,
        at: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        self.db.write("check an API token", |db| {
            let name: Option<String> = db
                .conn()
                .query_row(
                    "SELECT name FROM api_tokens WHERE digest = ?1",
                    [digest],
                    |row| row.get(0),
                )
                .optional()
                .map_err(|e| db.error("check an API token", e))?;
            if let Some(name) = &name {
                db.execute(
                    "UPDATE api_tokens SET last_used_at = ?2 WHERE name = ?1",
                    params![name, at as i64],
                )
                .map_err(|e| db.error("note an API token's use", e))?;
            }
            Ok(name)
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
