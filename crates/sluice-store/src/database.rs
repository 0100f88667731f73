//! One SQLite connection to the history file, set up for several writers,
//! and the transaction helpers every write goes through.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::error::StoreError;

/// How long a writer waits for another connection (possibly another Sluice
/// process) to release the write lock before giving up. Writes are short
/// (the largest imports one step's compressed log), so this is generous.
const BUSY_TIMEOUT: Duration = Duration::from_secs(15);

/// See [`Database::open`]: how many WAL pages trigger a checkpoint.
const WAL_CHECKPOINT_PAGES: i64 = 128;
/// What a checkpointed WAL file is truncated to, in bytes.
const WAL_SIZE_LIMIT: i64 = 1 << 20;

pub(crate) struct Database {
    conn: Connection,
    path: PathBuf,
}

/// Switches a connection's file to WAL. The switch needs the file to
/// itself, and SQLite answers "locked" at once (its busy handler does not
/// wait here) while another process is making a new file or migrating it:
/// two `sluice run`s started together. So this waits and tries again, as
/// the busy timeout would.
fn switch_to_wal(conn: &Connection) -> rusqlite::Result<()> {
    let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
    let mut pause = std::time::Duration::from_millis(2);
    loop {
        match conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get::<_, String>(0))
        {
            Ok(_) => return Ok(()),
            Err(rusqlite::Error::SqliteFailure(e, _))
                if matches!(
                    e.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
            Err(e) => return Err(e),
        }
    }
}

impl Database {
    /// Opens (creating if needed) the database file. Does not migrate.
    pub(crate) fn open(path: &Path) -> Result<Self, StoreError> {
        let fail = |action: &str| {
            let action = action.to_owned();
            move |source| StoreError::Database {
                path: path.to_owned(),
                action,
                source,
            }
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(fail("open the file"))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(fail("set the busy timeout"))?;
        // WAL lets readers (`sluice runs`) proceed while a run writes, and
        // lets two processes share the file. It is a property of the file,
        // so this is a no-op after the first open. It is also the first
        // statement to read the file, so a file that is not a database fails
        // here, with SQLite's "file is not a database".
        switch_to_wal(&conn).map_err(fail("read it as an SQLite database (switching to WAL)"))?;
        // In WAL mode NORMAL still survives any process crash (kill -9);
        // only an OS crash or power loss may lose the last commits, which is
        // an acceptable price for not syncing on every step.
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(fail("set synchronous=NORMAL"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(fail("enable foreign keys"))?;
        conn.set_prepared_statement_cache_capacity(32);
        // Closing the last connection would otherwise checkpoint the WAL
        // into the file and sync it, at the end of every command. Left in
        // place, the WAL is replayed by the next process to open the file,
        // at a cost that grows with it; checkpointing every 128 pages (a
        // few runs' records, done by the writer as it commits) keeps both
        // small.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
            .map_err(fail("keep the WAL on close"))?;
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)
            .map_err(fail("set the WAL checkpoint interval"))?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)
            .map_err(fail("limit the WAL's size"))?;
        Ok(Database {
            conn,
            path: path.to_owned(),
        })
    }

    /// Runs one statement, compiled once per connection: a run records
    /// hundreds of events with the same dozen statements, and compiling
    /// them each time cost more than running them.
    pub(crate) fn execute(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> rusqlite::Result<usize> {
        self.conn.prepare_cached(sql)?.execute(params)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Wraps an SQLite error with this database's path and what was tried.
    pub(crate) fn error(&self, action: impl Into<String>, source: rusqlite::Error) -> StoreError {
        StoreError::Database {
            path: self.path.clone(),
            action: action.into(),
            source,
        }
    }

    /// Runs `body` in a write transaction, committing if it returns `Ok`.
    ///
    /// IMMEDIATE takes the write lock up front: a deferred transaction that
    /// reads and then writes can fail with SQLITE_BUSY without waiting when
    /// another connection wrote in between, whereas this one waits (up to
    /// the busy timeout) at BEGIN, so read-then-write logic such as "highest
    /// run number + 1" is atomic across processes.
    ///
    /// Inside a batch ([`Database::begin_batch`]) the write is a savepoint
    /// instead: all or nothing on its own, committed with the batch.
    pub(crate) fn write<T>(
        &self,
        action: &str,
        body: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if !self.conn.is_autocommit() {
            self.execute("SAVEPOINT batched_write", [])
                .map_err(|e| self.error(format!("start a savepoint to {action}"), e))?;
            return match body(self) {
                Ok(value) => {
                    self.execute("RELEASE batched_write", [])
                        .map_err(|e| self.error(format!("release the savepoint of {action}"), e))?;
                    Ok(value)
                }
                Err(error) => {
                    let _ = self.execute("ROLLBACK TO batched_write", []);
                    let _ = self.execute("RELEASE batched_write", []);
                    Err(error)
                }
            };
        }
        let transaction = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.error(format!("start a transaction to {action}"), e))?;
        // On error (or panic) the transaction is dropped, which rolls back.
        let value = body(self)?;
        transaction
            .commit()
            .map_err(|e| self.error(format!("commit {action}"), e))?;
        Ok(value)
    }

    /// Starts a batch: the following writes share one transaction until
    /// [`Database::commit_batch`]. A no-op inside a batch.
    pub(crate) fn begin_batch(&self) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            self.conn
                .execute_batch("BEGIN IMMEDIATE")
                .map_err(|e| self.error("start a batch of writes", e))?;
        }
        Ok(())
    }

    /// Commits the open batch, if any.
    pub(crate) fn commit_batch(&self) -> Result<(), StoreError> {
        if !self.conn.is_autocommit() {
            self.conn
                .execute_batch("COMMIT")
                .map_err(|e| self.error("commit a batch of writes", e))?;
        }
        Ok(())
    }

    /// Runs `body` in a read transaction, so that several queries see one
    /// consistent snapshot even while another process writes.
    pub(crate) fn read<T>(
        &self,
        action: &str,
        body: impl FnOnce(&Database) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let transaction = Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)
            .map_err(|e| self.error(format!("start a transaction to {action}"), e))?;
        let value = body(self)?;
        // Nothing was written; ending the transaction just releases the snapshot.
        transaction
            .commit()
            .map_err(|e| self.error(format!("finish {action}"), e))?;
        Ok(value)
    }
}
