//! Runs that wait: numbered when asked for, started when their
//! concurrency group allows, by a server (any of them) or by the one
//! `sluice run` process that queued them.
//!
//! Concurrency groups behave as GitHub's: per repository, at most one run
//! of a group runs and one waits; a newer waiting run replaces (cancels)
//! the older one, unless the group queues (`queue: max`); a run with
//! `cancel-in-progress` asks the running one to stop. Every decision is
//! one write transaction, so it holds across threads and processes
//! sharing a state directory.

use rusqlite::{OptionalExtension, params};
use sluice_events::Timestamp;

use crate::database::Database;
use crate::error::StoreError;
use crate::history::History;
use crate::process_identity::ProcessIdentity;
use crate::recorder::Recorder;
use crate::status::Status;

/// A run to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRequest {
    pub repository: String,
    pub workflow: String,
    pub workflow_path: String,
    pub event: String,
    pub git_ref: String,
    pub sha: String,
    /// What the server needs to start the run (JSON, opaque here); `None`
    /// for a run the queuing process starts itself.
    pub request: Option<String>,
    pub concurrency: Option<GroupMembership>,
    /// Who starts the run.
    pub starter: Starter,
    pub queued_at: Timestamp,
}

/// A run's (or job's) place in a concurrency group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMembership {
    pub group: String,
    pub cancel_in_progress: bool,
    /// `queue: max`: waiting runs line up instead of replacing each other.
    pub keep_waiting: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starter {
    /// Any server sharing the state directory.
    AnyServer,
    /// The process queuing it (which waits for its group).
    ThisProcess,
}

/// What queuing did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub run_id: i64,
    pub number: u64,
    /// Numbers of waiting runs of the group this one replaced (now cancelled).
    pub replaced: Vec<u64>,
    /// Numbers of running runs of the group asked to stop.
    pub cancelling: Vec<u64>,
}

/// What asking to start a queued run found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartDecision {
    Started,
    /// Its group's running run (this number) has not finished.
    Waiting {
        behind: u64,
    },
    /// It was cancelled while it waited (replaced, or by request).
    Cancelled,
}

/// A queued run a server has taken, now `running` and owned by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedRun {
    pub run_id: i64,
    pub number: u64,
    pub repository: String,
    pub workflow: String,
    pub workflow_path: String,
    pub event: String,
    pub git_ref: String,
    pub sha: String,
    pub request: Option<String>,
    pub queued_at: Timestamp,
}

/// What asking to cancel a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// It was waiting, and never will start.
    CancelledWhileQueued,
    /// It is running; its owner was asked to stop it.
    Requested,
    /// It had already finished.
    AlreadyOver(Status),
}

impl History {
    /// Numbers a run and queues it (see the module documentation for what
    /// its group does to the others).
    pub fn enqueue(&self, run: &QueueRequest) -> Result<Queued, StoreError> {
        self.db.write("queue a run", |db| enqueue_in(db, run))
    }

    /// Queues again, for any server, every interrupted run of `repository`
    /// that a server was running (it has a request) and that was not
    /// queued again before; marks each with its successor, in the same
    /// transaction, so that whoever recovered it, it is queued once.
    pub fn requeue_interrupted(&self, repository: &str) -> Result<Vec<(u64, u64)>, StoreError> {
        self.db.write("queue interrupted runs again", |db| {
            let numbers: Vec<i64> = db
                .conn()
                .prepare(
                    "SELECT number FROM runs
                     WHERE repository = ?1 AND status = 'interrupted'
                       AND request IS NOT NULL AND requeued_as IS NULL
                     ORDER BY number",
                )
                .and_then(|mut statement| {
                    statement
                        .query_map([repository], |row| row.get(0))?
                        .collect()
                })
                .map_err(|e| db.error("find interrupted runs", e))?;
            let mut requeued = Vec::new();
            for number in numbers {
                let number = number as u64;
                let original = copy_of(db, repository, number, None, crate::timestamp::now_ms())?;
                let queued = enqueue_in(db, &original)?;
                db.execute(
                    "UPDATE runs SET requeued_as = ?3 WHERE repository = ?1 AND number = ?2",
                    params![repository, number as i64, queued.number as i64],
                )
                .map_err(|e| db.error(format!("note run #{number} was queued again"), e))?;
                requeued.push((number, queued.number));
            }
            Ok(requeued)
        })
    }

    /// Ends a run this process took but cannot run (its record could not
    /// be opened): `interrupted`, so that it holds no group.
    pub fn abandon(&self, run_id: i64) -> Result<(), StoreError> {
        self.db.write("give up a run", |db| {
            db.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ?2
                 WHERE id = ?1 AND status IN ('queued', 'running')",
                params![run_id, crate::timestamp::now_ms() as i64],
            )
            .map_err(|e| db.error(format!("give up run id {run_id}"), e))?;
            Ok(())
        })
    }

    /// Puts a run this process took, and has not started, back in the
    /// queue for any server.
    pub fn release(&self, run_id: i64) -> Result<(), StoreError> {
        self.db.write("put a run back in the queue", |db| {
            db.execute(
                "UPDATE runs SET status = 'queued', started_at = NULL, owner_pid = NULL,
                                 owner_start_ticks = NULL, owner_boot_id = NULL,
                                 owner_pid_namespace = NULL
                 WHERE id = ?1 AND status = 'running'",
                [run_id],
            )
            .map_err(|e| db.error(format!("put run id {run_id} back in the queue"), e))?;
            Ok(())
        })
    }

    /// Runs of `repository` at commit `sha` that are queued or running,
    /// other than run `number`.
    pub fn others_at_commit(
        &self,
        repository: &str,
        sha: &str,
        number: u64,
    ) -> Result<u64, StoreError> {
        self.db
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM runs
                 WHERE repository = ?1 AND sha = ?2 AND number != ?3
                   AND status IN ('queued', 'running')",
                params![repository, sha, number as i64],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.db.error("count runs at a commit", e))
    }
}

fn enqueue_in(db: &Database, run: &QueueRequest) -> Result<Queued, StoreError> {
    let owner = match run.starter {
        Starter::AnyServer => None,
        Starter::ThisProcess => Some(ProcessIdentity::current()),
    };
    let number = next_number(db, &run.repository)?;
    let (replaced, cancelling) = match &run.concurrency {
        Some(membership) => make_room(db, &run.repository, membership)?,
        None => (Vec::new(), Vec::new()),
    };
    db.conn()
        .execute(
            "INSERT INTO runs (repository, number, workflow, workflow_path, event, git_ref,
                               sha, status, queued_at, owner_pid, owner_start_ticks,
                               owner_boot_id, owner_pid_namespace, request,
                               concurrency_group, cancel_in_progress, keep_waiting)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                     ?17)",
            params![
                run.repository,
                number as i64,
                run.workflow,
                run.workflow_path,
                run.event,
                run.git_ref,
                run.sha,
                Status::Queued,
                run.queued_at as i64,
                owner.as_ref().map(|o| o.pid),
                owner.as_ref().and_then(|o| o.start_ticks).map(|t| t as i64),
                owner.as_ref().and_then(|o| o.boot_id.clone()),
                owner.as_ref().and_then(|o| o.pid_namespace.clone()),
                run.request,
                run.concurrency.as_ref().map(|m| &m.group),
                run.concurrency
                    .as_ref()
                    .is_some_and(|m| m.cancel_in_progress),
                run.concurrency.as_ref().is_some_and(|m| m.keep_waiting),
            ],
        )
        .map_err(|e| db.error("insert a queued run", e))?;
    Ok(Queued {
        run_id: db.conn().last_insert_rowid(),
        number,
        replaced,
        cancelling,
    })
}

/// Run `number` as a new request for any server: the same workflow,
/// commit and group, with `request` (or its own).
fn copy_of(
    db: &Database,
    repository: &str,
    number: u64,
    request: Option<&str>,
    queued_at: Timestamp,
) -> Result<QueueRequest, StoreError> {
    db.conn()
        .query_row(
            "SELECT workflow, workflow_path, event, git_ref, sha, concurrency_group,
                    cancel_in_progress, keep_waiting, request
             FROM runs WHERE repository = ?1 AND number = ?2",
            params![repository, number as i64],
            |row| {
                let group: Option<String> = row.get(5)?;
                let cancel_in_progress: bool = row.get(6)?;
                let keep_waiting: bool = row.get(7)?;
                let own_request: Option<String> = row.get(8)?;
                Ok(QueueRequest {
                    repository: repository.to_owned(),
                    workflow: row.get(0)?,
                    workflow_path: row.get(1)?,
                    event: row.get(2)?,
                    git_ref: row.get(3)?,
                    sha: row.get(4)?,
                    request: request.map(str::to_owned).or(own_request),
                    concurrency: group.map(|group| GroupMembership {
                        group,
                        cancel_in_progress,
                        keep_waiting,
                    }),
                    starter: Starter::AnyServer,
                    queued_at,
                })
            },
        )
        .optional()
        .map_err(|e| db.error(format!("read run #{number}"), e))?
        .ok_or_else(|| StoreError::NoSuchRun {
            repository: repository.to_owned(),
            number,
        })
}

impl History {
    /// Starts queued run `run_id` (queued by this process) if its group
    /// lets it. A group's running run whose process died is recovered
    /// first, so that it does not block the group for ever.
    pub fn try_start(&self, run_id: i64) -> Result<StartDecision, StoreError> {
        let decision = self.db.write("start a queued run", |db| {
            let (status, repository, group): (Status, String, Option<String>) = db
                .conn()
                .query_row(
                    "SELECT status, repository, concurrency_group FROM runs WHERE id = ?1",
                    [run_id],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                )
                .map_err(|e| db.error(format!("read queued run id {run_id}"), e))?;
            if status != Status::Queued {
                return Ok(StartDecision::Cancelled);
            }
            if let Some(group) = &group
                && let Some(behind) = blocker(db, &repository, group, run_id)?
            {
                return Ok(StartDecision::Waiting { behind });
            }
            mark_started(db, run_id, &ProcessIdentity::current())?;
            Ok(StartDecision::Started)
        })?;
        if let StartDecision::Waiting { .. } = decision {
            // Cheap when every owner lives; frees the group when one died.
            self.recover_interrupted()?;
        }
        Ok(decision)
    }

    /// Takes the oldest run queued for any server whose group is free,
    /// marking it running and owned by this process.
    pub fn claim_next(&self, repository: &str) -> Result<Option<ClaimedRun>, StoreError> {
        self.db.write("take a queued run", |db| {
            let candidate: Option<i64> = db
                .conn()
                .query_row(
                    "SELECT r.id FROM runs r
                     WHERE r.repository = ?1 AND r.status = 'queued' AND r.owner_pid IS NULL
                       AND (r.concurrency_group IS NULL OR NOT EXISTS (
                             SELECT 1 FROM runs o
                             WHERE o.repository = r.repository
                               AND o.concurrency_group = r.concurrency_group
                               AND (o.status = 'running'
                                    OR (o.status = 'queued' AND o.id < r.id))))
                     ORDER BY r.id LIMIT 1",
                    [repository],
                    |row| row.get(0),
                )
                .optional()
                .map_err(|e| db.error("find a queued run", e))?;
            let Some(run_id) = candidate else {
                return Ok(None);
            };
            mark_started(db, run_id, &ProcessIdentity::current())?;
            read_claimed(db, run_id).map(Some)
        })
    }

    /// A recorder for a run this process started from the queue.
    pub fn recorder_for(&self, run_id: i64) -> Result<Recorder, StoreError> {
        let (number, repository): (i64, String) = self
            .db
            .conn()
            .query_row(
                "SELECT number, repository FROM runs WHERE id = ?1",
                [run_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|e| self.db.error(format!("read run id {run_id}"), e))?;
        self.open_recorder(run_id, number as u64, repository)
    }

    /// Asks run `number` to stop: a queued one is cancelled at once, a
    /// running one's owner is asked (it polls [`History::cancel_requested`]).
    pub fn request_cancel(
        &self,
        repository: &str,
        number: u64,
    ) -> Result<CancelOutcome, StoreError> {
        self.db.write("cancel a run", |db| {
            let (run_id, status): (i64, Status) = db
                .conn()
                .query_row(
                    "SELECT id, status FROM runs WHERE repository = ?1 AND number = ?2",
                    params![repository, number as i64],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(|e| db.error(format!("find run #{number}"), e))?
                .ok_or_else(|| StoreError::NoSuchRun {
                    repository: repository.to_owned(),
                    number,
                })?;
            match status {
                Status::Queued => {
                    cancel_queued(db, run_id)?;
                    Ok(CancelOutcome::CancelledWhileQueued)
                }
                Status::Running => {
                    db.execute(
                        "UPDATE runs SET cancel_requested = 1 WHERE id = ?1",
                        [run_id],
                    )
                    .map_err(|e| db.error(format!("ask run #{number} to stop"), e))?;
                    Ok(CancelOutcome::Requested)
                }
                other => Ok(CancelOutcome::AlreadyOver(other)),
            }
        })
    }

    /// Whether someone asked run `run_id` to stop.
    pub fn cancel_requested(&self, run_id: i64) -> Result<bool, StoreError> {
        self.db
            .conn()
            .prepare_cached("SELECT cancel_requested FROM runs WHERE id = ?1")
            .and_then(|mut statement| {
                statement
                    .query_row([run_id], |row| row.get::<_, bool>(0))
                    .optional()
            })
            .map(|flag| flag.unwrap_or(false))
            .map_err(|e| {
                self.db
                    .error(format!("read whether run id {run_id} should stop"), e)
            })
    }

    /// Runs queued for a server in `repository`, not yet started.
    pub fn queue_depth(&self, repository: &str) -> Result<u64, StoreError> {
        self.db
            .conn()
            .query_row(
                "SELECT COUNT(*) FROM runs WHERE repository = ?1 AND status = 'queued'",
                [repository],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.db.error("count queued runs", e))
    }

    /// Queues run `number` again, for any server, as a new run of the same
    /// workflow, commit and group, started with `request` (a re-run's
    /// changed request, or the same one for a run cut off by a crash).
    pub fn requeue(
        &self,
        repository: &str,
        number: u64,
        request: &str,
        queued_at: Timestamp,
    ) -> Result<Queued, StoreError> {
        self.db.write("queue a run again", |db| {
            let original = copy_of(db, repository, number, Some(request), queued_at)?;
            enqueue_in(db, &original)
        })
    }

    /// What a server needs to start run `number` again (re-run, requeue);
    /// `None` for a run of `sluice run`.
    pub fn run_request(&self, repository: &str, number: u64) -> Result<Option<String>, StoreError> {
        self.db
            .conn()
            .query_row(
                "SELECT request FROM runs WHERE repository = ?1 AND number = ?2",
                params![repository, number as i64],
                |row| row.get::<_, Option<String>>(0),
            )
            .optional()
            .map_err(|e| {
                self.db
                    .error(format!("read the request of run #{number}"), e)
            })?
            .ok_or_else(|| StoreError::NoSuchRun {
                repository: repository.to_owned(),
                number,
            })
    }
}

fn next_number(db: &Database, repository: &str) -> Result<u64, StoreError> {
    db.conn()
        .query_row(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM runs WHERE repository = ?1",
            [repository],
            |row| row.get::<_, i64>(0),
        )
        .map(|n| n as u64)
        .map_err(|e| db.error("number the run", e))
}

/// Makes room in a group for a newly queued run: the waiting one is
/// replaced (unless the group queues), the running one asked to stop
/// when the newcomer cancels in progress.
fn make_room(
    db: &Database,
    repository: &str,
    membership: &GroupMembership,
) -> Result<(Vec<u64>, Vec<u64>), StoreError> {
    let members = group_members(db, repository, &membership.group)?;
    let mut replaced = Vec::new();
    let mut cancelling = Vec::new();
    for (run_id, number, status) in members {
        match status {
            Status::Queued if !membership.keep_waiting => {
                cancel_queued(db, run_id)?;
                replaced.push(number);
            }
            Status::Running if membership.cancel_in_progress => {
                db.execute(
                    "UPDATE runs SET cancel_requested = 1 WHERE id = ?1",
                    [run_id],
                )
                .map_err(|e| db.error(format!("ask run #{number} to stop"), e))?;
                cancelling.push(number);
            }
            _ => {}
        }
    }
    Ok((replaced, cancelling))
}

/// The group's runs that are waiting or running.
fn group_members(
    db: &Database,
    repository: &str,
    group: &str,
) -> Result<Vec<(i64, u64, Status)>, StoreError> {
    let mut statement = db
        .conn()
        .prepare_cached(
            "SELECT id, number, status FROM runs
             WHERE repository = ?1 AND concurrency_group = ?2 AND status IN ('queued', 'running')
             ORDER BY id",
        )
        .map_err(|e| db.error("read a concurrency group", e))?;
    statement
        .query_map(params![repository, group], |row| {
            Ok((row.get(0)?, row.get::<_, i64>(1)? as u64, row.get(2)?))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| db.error("read a concurrency group", e))
}

/// The run `run_id` waits for: its group's running run, or an older
/// waiting one (a group that queues keeps its order).
fn blocker(
    db: &Database,
    repository: &str,
    group: &str,
    run_id: i64,
) -> Result<Option<u64>, StoreError> {
    Ok(group_members(db, repository, group)?
        .into_iter()
        .find(|(id, _, status)| *id != run_id && (*status == Status::Running || *id < run_id))
        .map(|(_, number, _)| number))
}

fn cancel_queued(db: &Database, run_id: i64) -> Result<(), StoreError> {
    db.execute(
        "UPDATE runs SET status = 'cancelled', finished_at = ?2
         WHERE id = ?1 AND status = 'queued'",
        params![run_id, crate::timestamp::now_ms() as i64],
    )
    .map_err(|e| db.error(format!("cancel queued run id {run_id}"), e))?;
    Ok(())
}

fn mark_started(db: &Database, run_id: i64, owner: &ProcessIdentity) -> Result<(), StoreError> {
    db.execute(
        "UPDATE runs SET status = 'running', started_at = ?2, owner_pid = ?3,
                         owner_start_ticks = ?4, owner_boot_id = ?5, owner_pid_namespace = ?6
         WHERE id = ?1",
        params![
            run_id,
            crate::timestamp::now_ms() as i64,
            owner.pid,
            owner.start_ticks.map(|t| t as i64),
            owner.boot_id,
            owner.pid_namespace,
        ],
    )
    .map_err(|e| db.error(format!("start run id {run_id}"), e))?;
    Ok(())
}

fn read_claimed(db: &Database, run_id: i64) -> Result<ClaimedRun, StoreError> {
    db.conn()
        .query_row(
            "SELECT number, repository, workflow, workflow_path, event, git_ref, sha, request,
                    queued_at
             FROM runs WHERE id = ?1",
            [run_id],
            |row| {
                Ok(ClaimedRun {
                    run_id,
                    number: row.get::<_, i64>(0)? as u64,
                    repository: row.get(1)?,
                    workflow: row.get(2)?,
                    workflow_path: row.get(3)?,
                    event: row.get(4)?,
                    git_ref: row.get(5)?,
                    sha: row.get(6)?,
                    request: row.get(7)?,
                    queued_at: row.get::<_, i64>(8)? as u64,
                })
            },
        )
        .map_err(|e| db.error(format!("read run id {run_id}"), e))
}
