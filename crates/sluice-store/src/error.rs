//! The one error type of the store. Every variant names the file involved
//! and what was being attempted, so a message read alone (in a terminal or
//! a CI log) says where to look.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create the state directory {path}")]
    CreateStateDir {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    /// SQLite refused something: a corrupt or foreign file, a full disk, a
    /// lock held past the busy timeout.
    #[error("history database {path}: cannot {action}")]
    Database {
        path: PathBuf,
        action: String,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "history database {path} has schema version {found}, but this Sluice knows versions up to \
         {supported}; it was written by a newer Sluice"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error("log spool {path}: cannot {action}")]
    Spool {
        path: PathBuf,
        action: String,
        #[source]
        source: io::Error,
    },

    /// A stored log chunk that does not decode: the database was damaged
    /// or written by something other than Sluice.
    #[error(
        "history database {path}: the logs of run id {run_id}, job {job} are corrupt: {reason}"
    )]
    CorruptLog {
        path: PathBuf,
        run_id: i64,
        job: String,
        reason: String,
    },

    #[error("no run #{number} in the history of {repository}")]
    NoSuchRun { repository: String, number: u64 },

    #[error("run #{number} has no job matching `{selector}` (its jobs: {})", available.join(", "))]
    NoSuchJob {
        number: u64,
        selector: String,
        available: Vec<String>,
    },

    #[error("run #{number} has no step matching `{selector}` in {}", jobs.join(", "))]
    NoSuchStep {
        number: u64,
        selector: String,
        jobs: Vec<String>,
    },

    #[error("cannot start the thread that writes the run's history")]
    Thread(#[source] io::Error),

    /// A bug: the history writer thread panicked; the run's record may be
    /// incomplete (the next Sluice marks it interrupted).
    #[error("the thread writing the run's history stopped unexpectedly")]
    WriterPanicked,
}
