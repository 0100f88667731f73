//! The history of a state directory: opening it, and starting runs.

use std::fs;
use std::path::{Path, PathBuf};

use rusqlite::params;
use sluice_events::Timestamp;

use crate::database::Database;
use crate::error::StoreError;
use crate::migrations;
use crate::process_identity::ProcessIdentity;
use crate::recorder::Recorder;
use crate::records::RecoveredRun;
use crate::status::Status;

pub(crate) const DATABASE_FILE: &str = "history.sqlite";
pub(crate) const SPOOL_DIR: &str = "spool";

/// The run history kept in a state directory (`history.sqlite` and the
/// `spool/` of runs in progress). Several `History` values, in one process
/// or several, may use one state directory at once.
pub struct History {
    pub(crate) db: Database,
    state_dir: PathBuf,
    recovered_on_open: Vec<RecoveredRun>,
}

/// What is known about a run before it starts. The [`Event::RunStarted`]
/// event, when recorded, refines these.
///
/// [`Event::RunStarted`]: sluice_events::Event::RunStarted
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// Whose history the run belongs to, and numbers count in: typically
    /// the canonical path of the repository root.
    pub repository: String,
    pub workflow: String,
    pub workflow_path: String,
    /// The triggering event, e.g. `push`.
    pub event: String,
    pub git_ref: String,
    pub sha: String,
    pub started_at: Timestamp,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History")
            .field("database", &self.db.path())
            .field("recovered_on_open", &self.recovered_on_open)
            .finish_non_exhaustive()
    }
}

impl History {
    /// Opens the history in `state_dir`, creating the directory and the
    /// database as needed, bringing the schema up to date, and recovering
    /// runs whose process died (see [`History::recovered_on_open`]).
    pub fn open(state_dir: &Path) -> Result<History, StoreError> {
        create_private_dir(state_dir).map_err(|source| StoreError::CreateStateDir {
            path: state_dir.to_owned(),
            source,
        })?;
        let db = Database::open(&state_dir.join(DATABASE_FILE))?;
        migrations::migrate(&db)?;
        let mut history = History {
            db,
            state_dir: state_dir.to_owned(),
            recovered_on_open: Vec::new(),
        };
        history.recovered_on_open = history.recover_interrupted()?;
        Ok(history)
    }

    /// Opens a history already opened (and so migrated and recovered) by
    /// this process.
    pub(crate) fn open_without_recovery(state_dir: &Path) -> Result<History, StoreError> {
        let db = Database::open(&state_dir.join(DATABASE_FILE))?;
        migrations::migrate(&db)?;
        Ok(History {
            db,
            state_dir: state_dir.to_owned(),
            recovered_on_open: Vec::new(),
        })
    }

    /// The runs that opening found interrupted and recovered, so the CLI
    /// can tell the user ("run #12 was interrupted").
    pub fn recovered_on_open(&self) -> &[RecoveredRun] {
        &self.recovered_on_open
    }

    pub fn state_dir(&self) -> &Path {
        &self.state_dir
    }

    pub fn database_path(&self) -> &Path {
        self.db.path()
    }

    pub(crate) fn spool_root(&self) -> PathBuf {
        self.state_dir.join(SPOOL_DIR)
    }

    /// The schema version of the database (after migration, the newest
    /// this build knows).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrations::read_version(&self.db)
    }

    /// Starts recording a run: assigns its number (one more than the
    /// highest of its repository, atomically across processes) and returns
    /// the [`Recorder`] to pass the run's events to.
    pub fn start_run(&self, run: NewRun) -> Result<Recorder, StoreError> {
        let owner = ProcessIdentity::current();
        let (run_id, number) = self.db.write("start a run", |db| {
            let number: i64 = db
                .conn()
                .query_row(
                    "SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE repository = ?1",
                    [&run.repository],
                    |row| row.get(0),
                )
                .map_err(|e| db.error("number the run", e))?;
            db.conn()
                .execute(
                    "INSERT INTO runs (repository, number, workflow, workflow_path, event, git_ref,
                                       sha, status, queued_at, started_at, owner_pid,
                                       owner_start_ticks, owner_boot_id, owner_pid_namespace)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13)",
                    params![
                        run.repository,
                        number,
                        run.workflow,
                        run.workflow_path,
                        run.event,
                        run.git_ref,
                        run.sha,
                        Status::Running,
                        run.started_at as i64,
                        owner.pid,
                        owner.start_ticks.map(|ticks| ticks as i64),
                        owner.boot_id,
                        owner.pid_namespace,
                    ],
                )
                .map_err(|e| db.error("insert the run", e))?;
            Ok((db.conn().last_insert_rowid(), number as u64))
        })?;
        self.open_recorder(run_id, number, run.repository)
    }

    pub(crate) fn open_recorder(
        &self,
        run_id: i64,
        number: u64,
        repository: String,
    ) -> Result<Recorder, StoreError> {
        // The recorder gets its own connection: it lives on its own (often
        // on its own writer thread) and must not wait behind this handle's queries.
        let recorder_db = Database::open(self.db.path())?;
        Recorder::new(recorder_db, self.spool_root(), run_id, number, repository)
    }
}

/// Creates `dir` (and its parents) if needed and makes it private to this
/// user: the history holds logs, so nobody else may enter it. A directory
/// of ours that others could enter (made by an older Sluice) is closed;
/// one of another user's is refused. (The cache directory follows the
/// same rules, in `sluice-cache`.)
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let metadata = fs::metadata(dir)?;
    // Someone else's directory could hold a planted database: never use one.
    if metadata.uid() != nix::unistd::geteuid().as_raw() {
        return Err(std::io::Error::other(
            "it belongs to another user; the history must be in a directory of this user's own",
        ));
    }
    if metadata.permissions().mode() & 0o077 != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}
