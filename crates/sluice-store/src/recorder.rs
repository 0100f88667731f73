//! Recording one run's events as they happen.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::params;
use sluice_events::{Event, EventSink, JobInfo, JobKey};

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
/// `emit` only queues the event: a writer thread of the recorder's own
/// does the database work, so a job's thread never waits for SQLite (on
/// a fully cached run the recording was most of the time a job took).
/// Log lines are appended to spool files; everything else, and each
/// step's lines once the step ends, is written to the database in
/// batches, committed at least every [`MAX_BATCH_AGE`], at the run's end
/// and on [`Recorder::sync`]. A kill -9 may therefore lose the last
/// fraction of a second of a run's record; recovery marks such a run
/// interrupted and keeps the lines that reached the spool.
///
/// `emit` cannot return errors, so the first one is kept and reported by
/// [`Recorder::finish`]; recording carries on after it, and lines whose
/// import failed stay spooled for a later retry or recovery.
///
/// Dropping a recorder without [`Recorder::finish`] finishes it without
/// an exit code.
pub struct Recorder {
    run_id: i64,
    number: u64,
    repository: String,
    inbox: SyncSender<Message>,
    writer: Option<JoinHandle<()>>,
    first_error: Arc<Mutex<Option<StoreError>>>,
}

/// What the writer thread is asked to do, in order.
enum Message {
    Event(Box<Event>),
    /// Commit what came before, then acknowledge.
    Sync(SyncSender<()>),
    /// Record the CLI's exit code and stop.
    Finish(Option<i32>),
}

/// Events queued beyond this make `emit` wait: a step printing faster than
/// the spool can take it is slowed rather than growing memory without bound.
const QUEUE_CAPACITY: usize = 16_384;

/// The longest a batch of writes stays uncommitted: what a kill -9 may cost
/// of the run's record (its log lines are safe in the spool regardless),
/// and how stale `sluice runs` in another terminal may be.
const MAX_BATCH_AGE: Duration = Duration::from_millis(200);

struct RecorderState {
    run_id: i64,
    /// Whose history it is (tests are kept per repository).
    repository: String,
    db: Database,
    spool: SpoolWriter,
    spool_dir: PathBuf,
    /// Numbers log lines in emission order across the run.
    next_seq: u64,
    /// Closed spool files not yet in the database (an import failed).
    unimported: Vec<PathBuf>,
    first_error: Arc<Mutex<Option<StoreError>>>,
    run_finished: bool,
    closed: bool,
    /// When the open batch of writes started, if one is open.
    batch_started: Option<Instant>,
    /// Jobs whose row is known to exist, so events about them skip the
    /// insert-if-missing (with STAT4 SQLite re-plans that statement on
    /// every use, which made it the costliest part of recording).
    known_jobs: HashSet<JobKey>,
}

impl Recorder {
    pub(crate) fn new(
        db: Database,
        spool_root: PathBuf,
        run_id: i64,
        number: u64,
        repository: String,
    ) -> Result<Self, StoreError> {
        let spool_dir = spool::run_spool_dir(&spool_root, run_id);
        let first_error = Arc::new(Mutex::new(None));
        let state = RecorderState {
            run_id,
            repository: repository.clone(),
            db,
            spool: SpoolWriter::new(spool_dir.clone()),
            spool_dir,
            next_seq: 0,
            unimported: Vec::new(),
            first_error: Arc::clone(&first_error),
            run_finished: false,
            closed: false,
            batch_started: None,
            known_jobs: HashSet::new(),
        };
        let (inbox, messages) = std::sync::mpsc::sync_channel(QUEUE_CAPACITY);
        let writer = std::thread::Builder::new()
            .name("sluice-history".into())
            .spawn(move || state.write_until_finished(&messages))
            .map_err(StoreError::Thread)?;
        Ok(Recorder {
            run_id,
            number,
            repository,
            inbox,
            writer: Some(writer),
            first_error,
        })
    }

    /// The run's id in the history (the key cancellation requests and
    /// concurrency groups use).
    pub fn run_id(&self) -> i64 {
        self.run_id
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
        lock(&self.first_error).take()
    }

    /// Waits until everything emitted so far is committed (readers in
    /// other processes see it, and a kill no longer loses it).
    pub fn sync(&self) {
        let (ack, acked) = std::sync::mpsc::sync_channel(1);
        if self.inbox.send(Message::Sync(ack)).is_ok() {
            let _ = acked.recv();
        }
    }

    /// Ends the recording: stores any log lines still spooled, the CLI's
    /// exit code, and, if no `RunFinished` event came, marks the run
    /// `interrupted`. Returns the first error met while recording.
    pub fn finish(mut self, exit_code: Option<i32>) -> Result<(), StoreError> {
        self.stop(exit_code);
        match self.take_error() {
            None => Ok(()),
            Some(error) => Err(error),
        }
    }

    fn stop(&mut self, exit_code: Option<i32>) {
        if let Some(writer) = self.writer.take() {
            let _ = self.inbox.send(Message::Finish(exit_code));
            if writer.join().is_err() {
                lock(&self.first_error).get_or_insert(StoreError::WriterPanicked);
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere leaves an error slot that is still usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl EventSink for Recorder {
    fn emit(&self, event: &Event) {
        // Fails only once the writer has stopped (after `finish`), when
        // there is nothing left to record into.
        let _ = self.inbox.send(Message::Event(Box::new(event.clone())));
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop(None);
    }
}

impl RecorderState {
    /// The writer thread: applies messages in order until told to finish
    /// (or until the recorder is gone), committing batches as they age.
    fn write_until_finished(mut self, messages: &Receiver<Message>) {
        loop {
            let message = match self.batch_started {
                None => messages.recv().ok(),
                Some(started) => {
                    let left = MAX_BATCH_AGE.saturating_sub(started.elapsed());
                    match messages.recv_timeout(left) {
                        Ok(message) => Some(message),
                        Err(RecvTimeoutError::Timeout) => {
                            self.commit_batch();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => None,
                    }
                }
            };
            match message {
                Some(Message::Event(event)) => self.apply(&event),
                Some(Message::Sync(ack)) => {
                    self.commit_batch();
                    let _ = ack.send(());
                }
                Some(Message::Finish(exit_code)) => {
                    self.close(exit_code);
                    return;
                }
                None => {
                    self.close(None);
                    return;
                }
            }
        }
    }

    /// Writes one event. Everything but log lines (which go to spool
    /// files) joins the open batch: one transaction per burst of events
    /// instead of one per event.
    fn apply(&mut self, event: &Event) {
        if self.closed {
            return;
        }
        if !matches!(event, Event::Log { .. }) {
            if let Err(error) = self.db.begin_batch() {
                self.fail(error);
            }
            self.batch_started.get_or_insert_with(Instant::now);
        }
        if let Err(error) = self.record(self.run_id, event) {
            self.fail(error);
        }
        if matches!(event, Event::RunFinished { .. }) {
            self.commit_batch();
        }
    }

    /// Keeps the first error for [`Recorder::finish`].
    fn fail(&self, error: StoreError) {
        lock(&self.first_error).get_or_insert(error);
    }

    fn commit_batch(&mut self) {
        if self.batch_started.take().is_some()
            && let Err(error) = self.db.commit_batch()
        {
            // The batch's rows may be gone: make events insert them again.
            self.known_jobs.clear();
            self.fail(error);
        }
    }

    fn record(&mut self, run_id: i64, event: &Event) -> Result<(), StoreError> {
        let has_row = event_job(event).is_some_and(|job| self.known_jobs.contains(job));
        let ensure_job = |db: &Database, job: &JobKey| {
            if has_row {
                Ok(())
            } else {
                ensure_job(db, run_id, job)
            }
        };
        self.record_unchecked(run_id, event, ensure_job)?;
        match event {
            Event::RunStarted { jobs, .. } => {
                self.known_jobs
                    .extend(jobs.iter().map(|info| info.job.clone()));
            }
            Event::JobAdded { info, .. } => {
                self.known_jobs.insert(info.job.clone());
            }
            _ => {
                if let Some(job) = event_job(event)
                    && !has_row
                {
                    self.known_jobs.insert(job.clone());
                }
            }
        }
        Ok(())
    }

    /// Writes one event; `ensure_job` makes sure the row of the job it is
    /// about exists.
    fn record_unchecked(
        &mut self,
        run_id: i64,
        event: &Event,
        ensure_job: impl Fn(&Database, &JobKey) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match event {
            Event::Log {
                job,
                step,
                stream,
                line,
                at,
                ..
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
                db.execute(
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
                ensure_job(db, job)?;
                db.execute(
                    "UPDATE jobs SET status = ?3, name = ?4, started_at = ?5
                         WHERE run_id = ?1 AND job_key = ?2",
                    params![run_id, job.as_str(), Status::Running, name, to_sql_u64(*at)],
                )
                .map_err(|e| db.error(format!("record the start of job {job}"), e))?;
                Ok(())
            }),
            Event::JobWaiting {
                job,
                name,
                environment,
                required_approvals,
                approval_deadline,
                at,
                ..
            } => self.db.write("record a waiting job", |db| {
                ensure_job(db, job)?;
                db.execute(
                    "UPDATE jobs SET status = ?3, name = ?4, environment = ?5,
                                     required_approvals = ?6, waiting_since = ?7,
                                     approval_deadline = ?8
                         WHERE run_id = ?1 AND job_key = ?2",
                    params![
                        run_id,
                        job.as_str(),
                        Status::Waiting,
                        name,
                        environment,
                        required_approvals,
                        to_sql_u64(*at),
                        approval_deadline.map(to_sql_u64)
                    ],
                )
                .map_err(|e| db.error(format!("record that job {job} waits"), e))?;
                Ok(())
            }),
            Event::DeploymentStarted {
                job,
                environment,
                at,
            } => {
                let repository = &self.repository;
                self.db.write("record a deployment", |db| {
                    ensure_job(db, job)?;
                    crate::deployment_records::record_started(
                        db,
                        run_id,
                        repository,
                        job,
                        environment,
                        *at,
                    )
                })
            }
            Event::DeploymentFinished {
                job,
                url,
                result,
                at,
                ..
            } => self.db.write("record the end of a deployment", |db| {
                crate::deployment_records::record_finished(
                    db,
                    run_id,
                    job,
                    url.as_deref(),
                    *result,
                    *at,
                )
            }),
            Event::JobSkipped {
                job,
                name,
                reason,
                at,
            } => {
                let closed = self.spool.close_job(job)?;
                self.write_with_logs(run_id, "record a skipped job", closed, |db| {
                    ensure_job(db, job)?;
                    db.execute(
                        "UPDATE jobs SET status = ?3, name = ?4, skip_reason = ?5, finished_at = ?6
                             WHERE run_id = ?1 AND job_key = ?2",
                        params![run_id, job.as_str(), Status::Skipped, name, reason, to_sql_u64(*at)],
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
                    ensure_job(db, job)?;
                    db.execute(
                        "UPDATE jobs SET status = ?3, name = ?4, finished_at = ?5,
                                             duration_ms = ?6, outputs = ?7
                             WHERE run_id = ?1 AND job_key = ?2",
                        params![
                            run_id,
                            job.as_str(),
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
                ensure_job(db, job)?;
                db.execute(
                    "INSERT INTO steps (run_id, job_key, step_index, step_id, name, status,
                                            started_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
                         ON CONFLICT (run_id, job_key, step_index) DO UPDATE SET
                             step_id = excluded.step_id, name = excluded.name,
                             status = excluded.status, started_at = excluded.started_at",
                    params![
                        run_id,
                        job.as_str(),
                        *step as i64,
                        step_id,
                        name,
                        Status::Running,
                        to_sql_u64(*at)
                    ],
                )
                .map_err(|e| db.error(format!("record the start of step {step} of {job}"), e))?;
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
                    ensure_job(db, job)?;
                    // An upsert: a step that never announced its start
                    // (skipped by `if:`) still gets its row.
                    db.execute(
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
                            job.as_str(),
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
                    .map_err(|e| db.error(format!("record the end of step {step} of {job}"), e))?;
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
                db.execute(
                    "INSERT INTO annotations (run_id, job_key, step_index, level, message, file,
                                                  line, col, title, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        run_id,
                        job.as_str(),
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
                db.execute(
                    "INSERT INTO step_summaries (run_id, job_key, step_index, markdown, at)
                         VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![run_id, job.as_str(), *step as i64, markdown, to_sql_u64(*at)],
                )
                .map_err(|e| db.error(format!("record the summary of step {step} of {job}"), e))?;
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
                db.execute(
                    "INSERT INTO cache_events (run_id, job_key, step_index, action, kind,
                                                   cache_key, result, matched_key, bytes,
                                                   duration_ms, saved_ms, at)
                         VALUES (?1, ?2, ?3, 'lookup', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                    params![
                        run_id,
                        job.as_str(),
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
                db.execute(
                    "INSERT INTO cache_events (run_id, job_key, step_index, action, kind,
                                                   cache_key, bytes, new_bytes, duration_ms, at)
                         VALUES (?1, ?2, ?3, 'save', ?4, ?5, ?6, ?7, ?8, ?9)",
                    params![
                        run_id,
                        job.as_str(),
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
            Event::ActionResolved {
                job,
                step,
                uses,
                commit,
                origin,
                at,
            } => self.db.write("record an action", |db| {
                db.execute(
                    "INSERT INTO run_actions (run_id, job_key, step_index, uses, commit_sha, origin, at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        run_id,
                        job.as_str(),
                        step.map(|s| s as i64),
                        uses,
                        commit,
                        origin,
                        to_sql_u64(*at)
                    ],
                )
                .map_err(|e| db.error("record an action", e))?;
                Ok(())
            }),
            Event::ArtifactUploaded {
                job,
                step,
                name,
                cache_kind,
                cache_id,
                files,
                bytes,
                expires_at,
                at,
            } => self.db.write("record an artifact", |db| {
                db.execute(
                    "INSERT INTO artifacts (run_id, name, job_key, step_index, cache_kind, cache_id,
                                            files, bytes, created_at, expires_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                         ON CONFLICT (run_id, name) DO UPDATE SET
                            job_key = excluded.job_key, step_index = excluded.step_index,
                            cache_kind = excluded.cache_kind, cache_id = excluded.cache_id,
                            files = excluded.files, bytes = excluded.bytes,
                            created_at = excluded.created_at, expires_at = excluded.expires_at",
                    params![
                        run_id,
                        name,
                        job.as_str(),
                        *step as i64,
                        cache_kind,
                        cache_id,
                        to_sql_u64(*files),
                        to_sql_u64(*bytes),
                        to_sql_u64(*at),
                        to_sql_u64(*expires_at)
                    ],
                )
                .map_err(|e| db.error("record an artifact", e))?;
                Ok(())
            }),
            Event::TestReport {
                job,
                step,
                attempt,
                files,
                totals,
                cases,
                tree,
                at,
            } => {
                let report = crate::test_records::ReportRecord {
                    run_id,
                    repository: &self.repository,
                    job,
                    step: *step,
                    attempt: *attempt,
                    files,
                    totals,
                    cases,
                    tree: tree.as_deref(),
                    at: *at,
                };
                self.db.write("record test results", |db| {
                    ensure_job(db, job)?;
                    crate::test_records::record_report(db, &report)
                })
            }
            Event::CoverageReport {
                job,
                step,
                attempt,
                files,
                totals,
                per_file,
                diff,
                at,
            } => {
                let record = crate::coverage_records::CoverageRecord {
                    run_id,
                    job,
                    step: *step,
                    attempt: *attempt,
                    files,
                    totals,
                    per_file,
                    diff: diff.as_ref(),
                    at: *at,
                };
                self.db.write("record coverage", |db| {
                    ensure_job(db, job)?;
                    crate::coverage_records::record_coverage(db, &record)
                })
            }
            Event::BenchmarkReport {
                job,
                step,
                testbed,
                results,
                at,
                ..
            } => {
                let repository = self.repository.clone();
                self.db.write("record benchmark results", |db| {
                    ensure_job(db, job)?;
                    let (git_ref, sha): (String, String) = db
                        .conn()
                        .query_row("SELECT git_ref, sha FROM runs WHERE id = ?1", [run_id], |row| {
                            Ok((row.get(0)?, row.get(1)?))
                        })
                        .map_err(|e| db.error("read the run's commit", e))?;
                    let origin = crate::perf_records::PerfOrigin {
                        repository: &repository,
                        step: Some((run_id, job, *step)),
                        git_ref: &git_ref,
                        sha: &sha,
                        at: *at,
                    };
                    crate::perf_records::record_results(db, &origin, testbed, results)
                })
            }
            Event::RunFinished {
                result,
                duration_ms,
                critical_path,
                at,
            } => {
                let closed = self.spool.close_all()?;
                let critical_path = to_json(critical_path);
                self.write_with_logs(run_id, "record the end of the run", closed, |db| {
                    db.execute(
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

    fn close(&mut self, exit_code: Option<i32>) {
        let run_id = self.run_id;
        if self.closed {
            return;
        }
        self.closed = true;
        self.commit_batch();
        let closed = self.spool.close_all().unwrap_or_else(|error| {
            self.fail(error);
            Vec::new()
        });
        let run_finished = self.run_finished;
        let result = self.write_with_logs(run_id, "finish recording the run", closed, |db| {
            if let Some(code) = exit_code {
                db.execute(
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
            self.fail(error);
        }
        if self.unimported.is_empty() {
            spool::remove_run_dir(&self.spool_dir);
        }
    }
}

/// Adds a job announced by the run (or updates it, if an event about it
/// came first).
fn upsert_job(db: &Database, run_id: i64, info: &JobInfo) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO jobs (run_id, job_key, job_id, name, needs, position, status)
             VALUES (?1, ?2, ?3, ?4, ?5,
                     (SELECT COALESCE(MAX(position) + 1, 0) FROM jobs WHERE run_id = ?1), ?6)
             ON CONFLICT (run_id, job_key) DO UPDATE SET
                 job_id = excluded.job_id, name = excluded.name, needs = excluded.needs",
        params![
            run_id,
            info.job.as_str(),
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
fn ensure_job(db: &Database, run_id: i64, key: &JobKey) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO jobs (run_id, job_key, job_id, name, position, status)
             VALUES (?1, ?2, ?3, ?2,
                     (SELECT COALESCE(MAX(position) + 1, 0) FROM jobs WHERE run_id = ?1), ?4)
             ON CONFLICT (run_id, job_key) DO NOTHING",
        params![run_id, key.as_str(), key.job().as_str(), Status::Pending],
    )
    .map_err(|e| db.error(format!("record job {key}"), e))?;
    Ok(())
}

/// The job an event is about, for events whose writes need its row.
fn event_job(event: &Event) -> Option<&JobKey> {
    match event {
        Event::JobStarted { job, .. }
        | Event::JobWaiting { job, .. }
        | Event::DeploymentStarted { job, .. }
        | Event::JobSkipped { job, .. }
        | Event::JobFinished { job, .. }
        | Event::StepStarted { job, .. }
        | Event::StepFinished { job, .. } => Some(job),
        _ => None,
    }
}
