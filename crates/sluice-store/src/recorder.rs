//! Recording one run's events as they happen.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use rusqlite::params;
use sluice_exec::events::{Event, EventSink, JobInfo};

use crate::database::Database;
use crate::error::StoreError;
use crate::log_store;
use crate::recovery;
use crate::spool::{self, SpoolWriter};
use crate::sql_values::{annotation_level_text, outcome_text, to_json, to_sql_u64};
use crate::status::Status;

/// Records one run's events into the history. Made by
/// [`History::start_run`](crate::History::start_run); pass it to the
/// executor as an [`EventSink`], from any number of threads.
///
/// Log lines are only appended to spool files; everything else, and each
/// step's lines once the step ends, is written to the database in short
/// transactions. `emit` cannot return errors, so the first one is kept and
/// reported by [`Recorder::finish`]; recording carries on after it, and
/// lines whose import failed stay spooled for a later retry or recovery.
///
/// Dropping a recorder without [`Recorder::finish`] finishes it without
/// an exit code.
pub struct Recorder {
    run_id: i64,
    number: u64,
    repository: String,
    state: Mutex<RecorderState>,
}

struct RecorderState {
    db: Database,
    spool: SpoolWriter,
    spool_dir: PathBuf,
    /// Numbers log lines in emission order across the run.
    next_seq: u64,
    /// Closed spool files not yet in the database (an import failed).
    unimported: Vec<PathBuf>,
    first_error: Option<StoreError>,
    run_finished: bool,
    closed: bool,
    /// When the open batch of writes started, if one is open.
    batch_started: Option<std::time::Instant>,
}

impl Recorder {
    pub(crate) fn new(
        db: Database,
        spool_root: PathBuf,
        run_id: i64,
        number: u64,
        repository: String,
    ) -> Self {
        let spool_dir = spool::run_spool_dir(&spool_root, run_id);
        Recorder {
            run_id,
            number,
            repository,
            state: Mutex::new(RecorderState {
                db,
                spool: SpoolWriter::new(spool_dir.clone()),
                spool_dir,
                next_seq: 0,
                unimported: Vec::new(),
                first_error: None,
                run_finished: false,
                closed: false,
                batch_started: None,
            }),
        }
    }

    /// The run's number in its repository's history (`#12`).
    pub fn number(&self) -> u64 {
        self.number
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The first error recording has met so far, if any, taking it (the
    /// CLI may warn mid-run that history is incomplete).
    pub fn take_error(&self) -> Option<StoreError> {
        self.lock().first_error.take()
    }

    /// Ends the recording: stores any log lines still spooled, the CLI's
    /// exit code, and, if no `RunFinished` event came, marks the run
    /// `interrupted`. Returns the first error met while recording.
    pub fn finish(self, exit_code: Option<i32>) -> Result<(), StoreError> {
        let mut state = self.lock();
        state.close(self.run_id, exit_code);
        match state.first_error.take() {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RecorderState> {
        // A panic on another thread mid-record leaves state that is still
        // consistent for our purposes (the database is transactional).
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl EventSink for Recorder {
    fn emit(&self, event: &Event) {
        let mut state = self.lock();
        if state.closed {
            return;
        }
        // Everything but log lines (which go to spool files) is written in
        // batches: one transaction per burst of events instead of one per
        // event, committed at each `flush` (the scheduler flushes several
        // times a second), at the run's end, and when a batch grows old.
        if !matches!(event, Event::Log { .. }) {
            if let Err(error) = state.db.begin_batch() {
                state.first_error.get_or_insert(error);
            }
            state
                .batch_started
                .get_or_insert_with(std::time::Instant::now);
        }
        if let Err(error) = state.record(self.run_id, event) {
            state.first_error.get_or_insert(error);
        }
        let old = state
            .batch_started
            .is_some_and(|started| started.elapsed() >= MAX_BATCH_AGE);
        if old || matches!(event, Event::RunFinished { .. }) {
            state.commit_batch();
        }
    }

    fn flush(&self) {
        self.lock().commit_batch();
    }
}

/// The longest an open batch waits for a `flush` before it is committed
/// by the next event: what a kill -9 may cost of the run's record (its
/// log lines are safe in the spool regardless).
const MAX_BATCH_AGE: std::time::Duration = std::time::Duration::from_millis(200);

impl Drop for Recorder {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        state.close(self.run_id, None);
    }
}

impl RecorderState {
    fn commit_batch(&mut self) {
        if self.batch_started.take().is_some()
            && let Err(error) = self.db.commit_batch()
        {
            self.first_error.get_or_insert(error);
        }
    }

    fn record(&mut self, run_id: i64, event: &Event) -> Result<(), StoreError> {
        match event {
            Event::Log {
                job,
                step,
                stream,
                line,
                at,
            } => {
                let seq = self.next_seq;
                self.next_seq += 1;
                self.spool.append(job, *step, seq, *at, *stream, line)
            }
            Event::RunStarted {
                workflow,
                workflow_path,
                event,
                git_ref,
                sha,
                jobs,
                at,
                ..
            } => self.db.write("record the start of the run", |db| {
                db.conn()
                    .execute(
                        "UPDATE runs SET workflow = ?2, workflow_path = ?3, event = ?4,
                                         git_ref = ?5, sha = ?6, started_at = ?7
                         WHERE id = ?1",
                        params![
                            run_id,
                            workflow,
                            workflow_path,
                            event,
                            git_ref,
                            sha,
                            to_sql_u64(*at)
                        ],
                    )
                    .map_err(|e| db.error("record the start of the run", e))?;
                jobs.iter().try_for_each(|job| upsert_job(db, run_id, job))
            }),
            Event::JobAdded { info, .. } => self
                .db
                .write("record an added job", |db| upsert_job(db, run_id, info)),
            Event::JobStarted { job, name, at } => self.db.write("record a job start", |db| {
                ensure_job(db, run_id, job)?;
                db.conn()
                    .execute(
                        "UPDATE jobs SET status = ?3, name = ?4, started_at = ?5
                         WHERE run_id = ?1 AND job_key = ?2",
                        params![run_id, job, Status::Running, name, to_sql_u64(*at)],
                    )
                    .map_err(|e| db.error(format!("record the start of job {job}"), e))?;
                Ok(())
            }),
            Event::JobSkipped {
                job,
                name,
                reason,
                at,
            } => {
                let closed = self.spool.close_job(job)?;
                self.write_with_logs(run_id, "record a skipped job", closed, |db| {
                    ensure_job(db, run_id, job)?;
                    db.conn()
                        .execute(
                            "UPDATE jobs SET status = ?3, name = ?4, skip_reason = ?5, finished_at = ?6
                             WHERE run_id = ?1 AND job_key = ?2",
                            params![run_id, job, Status::Skipped, name, reason, to_sql_u64(*at)],
                        )
                        .map_err(|e| db.error(format!("record that job {job} was skipped"), e))?;
                    Ok(())
                })
            }
            Event::JobFinished {
                job,
                name,
                result,
                duration_ms,
                outputs,
                at,
            } => {
                let closed = self.spool.close_job(job)?;
                let outputs = to_json(outputs);
                self.write_with_logs(run_id, "record a finished job", closed, |db| {
                    ensure_job(db, run_id, job)?;
                    db.conn()
                        .execute(
                            "UPDATE jobs SET status = ?3, name = ?4, finished_at = ?5,
                                             duration_ms = ?6, outputs = ?7
                             WHERE run_id = ?1 AND job_key = ?2",
                            params![
                                run_id,
                                job,
                                Status::from(*result),
                                name,
                                to_sql_u64(*at),
                                to_sql_u64(*duration_ms),
                                outputs
                            ],
                        )
                        .map_err(|e| db.error(format!("record the end of job {job}"), e))?;
                    Ok(())
                })
            }
            Event::StepStarted {
                job,
                step,
                step_id,
                name,
                at,
            } => self.db.write("record a step start", |db| {
                ensure_job(db, run_id, job)?;
                db.conn()
                    .execute(
                        "INSERT INTO steps (run_id, job_key, step_index, step_id, name, status,
                                            started_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (run_id, job_key, step_index) DO UPDATE SET
                             step_id = excluded.step_id, name = excluded.name,
                             status = excluded.status, started_at = excluded.started_at",
                        params![
                            run_id,
                            job,
                            *step as i64,
                            step_id,
                            name,
                            Status::Running,
                            to_sql_u64(*at)
                        ],
                    )
                    .map_err(|e| {
                        db.error(format!("record the start of step {step} of {job}"), e)
                    })?;
                Ok(())
            }),
            Event::StepFinished {
                job,
                step,
                outcome,
                conclusion,
                exit_code,
                duration_ms,
                cached,
                at,
            } => {
                let closed: Vec<PathBuf> =
                    self.spool.close(job, Some(*step))?.into_iter().collect();
                self.write_with_logs(run_id, "record a finished step", closed, |db| {
                    ensure_job(db, run_id, job)?;
                    // An upsert: a step that never announced its start
                    // (skipped by `if:`) still gets its row.
                    db.conn()
                        .execute(
                            "INSERT INTO steps (run_id, job_key, step_index, step_id, name, status,
                                                outcome, conclusion, exit_code, finished_at,
                                                duration_ms, cached)
                             VALUES (?1, ?2, ?3, '', '', ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                             ON CONFLICT (run_id, job_key, step_index) DO UPDATE SET
                                 status = excluded.status, outcome = excluded.outcome,
                                 conclusion = excluded.conclusion, exit_code = excluded.exit_code,
                                 finished_at = excluded.finished_at,
                                 duration_ms = excluded.duration_ms, cached = excluded.cached",
                            params![
                                run_id,
                                job,
                                *step as i64,
                                Status::from(*conclusion),
                                outcome_text(*outcome),
                                outcome_text(*conclusion),
                                exit_code,
                                to_sql_u64(*at),
                                to_sql_u64(*duration_ms),
                                *cached
                            ],
                        )
                        .map_err(|e| {
                            db.error(format!("record the end of step {step} of {job}"), e)
                        })?;
                    Ok(())
                })
            }
            Event::Annotation {
                job,
                step,
                level,
                message,
                file,
                line,
                col,
                title,
                at,
            } => self.db.write("record an annotation", |db| {
                db.conn()
                    .execute(
                        "INSERT INTO annotations (run_id, job_key, step_index, level, message, file,
                                                  line, col, title, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                        params![
                            run_id,
                            job,
                            step.map(|step| step as i64),
                            annotation_level_text(*level),
                            message,
                            file,
                            line,
                            col,
                            title,
                            to_sql_u64(*at)
                        ],
                    )
                    .map_err(|e| db.error(format!("record an annotation of {job}"), e))?;
                Ok(())
            }),
            Event::StepSummary {
                job,
                step,
                markdown,
                at,
            } => self.db.write("record a step summary", |db| {
                db.conn()
                    .execute(
                        "INSERT INTO step_summaries (run_id, job_key, step_index, markdown, at)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![run_id, job, *step as i64, markdown, to_sql_u64(*at)],
                    )
                    .map_err(|e| {
                        db.error(format!("record the summary of step {step} of {job}"), e)
                    })?;
                Ok(())
            }),
            Event::CacheLookup {
                job,
                step,
                kind,
                key,
                result,
                matched_key,
                bytes,
                duration_ms,
                saved_ms,
                at,
            } => self.db.write("record a cache lookup", |db| {
                db.conn()
                    .execute(
                        "INSERT INTO cache_events (run_id, job_key, step_index, action, kind,
                                                   cache_key, result, matched_key, bytes,
                                                   duration_ms, saved_ms, at)
                         VALUES (?1, ?2, ?3, 'lookup', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                        params![
                            run_id,
                            job,
                            *step as i64,
                            kind.as_str(),
                            key,
                            result.as_str(),
                            matched_key,
                            to_sql_u64(*bytes),
                            to_sql_u64(*duration_ms),
                            saved_ms.map(to_sql_u64),
                            to_sql_u64(*at)
                        ],
                    )
                    .map_err(|e| db.error("record a cache lookup", e))?;
                Ok(())
            }),
            Event::CacheSaved {
                job,
                step,
                kind,
                key,
                bytes,
                new_bytes,
                duration_ms,
                at,
            } => self.db.write("record a cache save", |db| {
                db.conn()
                    .execute(
                        "INSERT INTO cache_events (run_id, job_key, step_index, action, kind,
                                                   cache_key, bytes, new_bytes, duration_ms, at)
                         VALUES (?1, ?2, ?3, 'save', ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![
                            run_id,
                            job,
                            *step as i64,
                            kind.as_str(),
                            key,
                            to_sql_u64(*bytes),
                            to_sql_u64(*new_bytes),
                            to_sql_u64(*duration_ms),
                            to_sql_u64(*at)
                        ],
                    )
                    .map_err(|e| db.error("record a cache save", e))?;
                Ok(())
            }),
            Event::RunFinished {
                result,
                duration_ms,
                critical_path,
                at,
            } => {
                let closed = self.spool.close_all()?;
                let critical_path = to_json(critical_path);
                self.write_with_logs(run_id, "record the end of the run", closed, |db| {
                    db.conn()
                        .execute(
                            "UPDATE runs SET status = ?2, finished_at = ?3, duration_ms = ?4,
                                             critical_path = ?5
                             WHERE id = ?1",
                            params![
                                run_id,
                                Status::from(*result),
                                to_sql_u64(*at),
                                to_sql_u64(*duration_ms),
                                critical_path
                            ],
                        )
                        .map_err(|e| db.error("record the end of the run", e))?;
                    Ok(())
                })?;
                self.run_finished = true;
                Ok(())
            }
        }
    }

    /// Stores `closed` spool files (and any whose earlier import failed)
    /// and applies `body`, in one transaction; deletes the files once it
    /// commits. Compression happens before the transaction, so the write
    /// lock is held only for the inserts. On failure `body` is still
    /// applied alone, so that an unreadable spool file does not also lose
    /// a step's result; the files are kept for the next attempt (or for
    /// recovery).
    fn write_with_logs(
        &mut self,
        run_id: i64,
        action: &str,
        closed: Vec<PathBuf>,
        body: impl Fn(&Database) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut paths = std::mem::take(&mut self.unimported);
        paths.extend(closed);
        let prepared: Result<Vec<_>, StoreError> = paths
            .iter()
            .filter_map(|path| log_store::prepare_spool_file(path).transpose())
            .collect();
        let together = prepared.and_then(|chunks| {
            self.db.write(action, |db| {
                for chunk in &chunks {
                    log_store::store_chunk(db, run_id, chunk)?;
                }
                body(db)
            })
        });
        match together {
            Ok(()) => {
                spool::remove_imported(&paths);
                Ok(())
            }
            Err(error) => {
                self.unimported = paths;
                let _ = self.db.write(action, &body);
                Err(error)
            }
        }
    }

    fn close(&mut self, run_id: i64, exit_code: Option<i32>) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.commit_batch();
        let closed = self.spool.close_all().unwrap_or_else(|error| {
            self.first_error.get_or_insert(error);
            Vec::new()
        });
        let run_finished = self.run_finished;
        let result = self.write_with_logs(run_id, "finish recording the run", closed, |db| {
            if let Some(code) = exit_code {
                db.conn()
                    .execute(
                        "UPDATE runs SET exit_code = ?2 WHERE id = ?1",
                        params![run_id, code],
                    )
                    .map_err(|e| db.error("record the exit code", e))?;
            }
            if !run_finished {
                recovery::mark_interrupted(db, run_id, None)?;
            }
            Ok(())
        });
        if let Err(error) = result {
            self.first_error.get_or_insert(error);
        }
        if self.unimported.is_empty() {
            spool::remove_run_dir(&self.spool_dir);
        }
    }
}

/// Adds a job announced by the run (or updates it, if an event about it
/// came first).
fn upsert_job(db: &Database, run_id: i64, info: &JobInfo) -> Result<(), StoreError> {
    db.conn()
        .execute(
            "INSERT INTO jobs (run_id, job_key, job_id, name, needs, position, status)
             VALUES (?1, ?2, ?3, ?4, ?5,
                     (SELECT COALESCE(MAX(position) + 1, 0) FROM jobs WHERE run_id = ?1), ?6)
             ON CONFLICT (run_id, job_key) DO UPDATE SET
                 job_id = excluded.job_id, name = excluded.name, needs = excluded.needs",
            params![
                run_id,
                info.job,
                info.id,
                info.name,
                to_json(&info.needs),
                Status::Pending
            ],
        )
        .map_err(|e| db.error(format!("record job {}", info.job), e))?;
    Ok(())
}

/// Makes sure a job row exists before anything refers to it, for events
/// about a job the run never announced.
fn ensure_job(db: &Database, run_id: i64, key: &str) -> Result<(), StoreError> {
    db.conn()
        .execute(
            "INSERT INTO jobs (run_id, job_key, job_id, name, position, status)
             VALUES (?1, ?2, ?3, ?2,
                     (SELECT COALESCE(MAX(position) + 1, 0) FROM jobs WHERE run_id = ?1), ?4)
             ON CONFLICT (run_id, job_key) DO NOTHING",
            params![run_id, key, job_id_of(key), Status::Pending],
        )
        .map_err(|e| db.error(format!("record job {key}"), e))?;
    Ok(())
}

/// The workflow job id of a job key: `test[2]` -> `test`.
fn job_id_of(key: &str) -> &str {
    if let Some(body) = key.strip_suffix(']')
        && let Some((id, index)) = body.rsplit_once('[')
        && !index.is_empty()
        && index.bytes().all(|b| b.is_ascii_digit())
    {
        return id;
    }
    key
}

#[cfg(test)]
mod tests {
    use super::job_id_of;

    #[test]
    fn job_ids_drop_the_matrix_index() {
        assert_eq!(job_id_of("test[2]"), "test");
        assert_eq!(job_id_of("test[12]"), "test");
        assert_eq!(job_id_of("build"), "build");
        assert_eq!(job_id_of("odd[x]"), "odd[x]");
        assert_eq!(job_id_of("odd[]"), "odd[]");
    }
}
