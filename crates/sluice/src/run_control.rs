//! What holds or stops a run from outside it: its workflow's concurrency
//! group (a run waits its turn, or is replaced while it waits), a request
//! to cancel it (`sluice cancel`, the API, a newer run with
//! `cancel-in-progress`), and the concurrency groups of its jobs. All of
//! it lives in the history, so it holds across processes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use sluice_exec::events::JobKey;
use sluice_exec::job_groups::{GroupTurn, JobGroups};
use sluice_plan::PlannedConcurrency;
use sluice_store::{GroupMembership, JobTurn};

/// How often a waiting run looks at the history.
pub const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How often a waiter checks whether whoever it waits for has died.
const RECOVERY_INTERVAL: Duration = Duration::from_secs(2);

/// A run's or job's `concurrency`, as the history keeps it.
pub fn membership(concurrency: &PlannedConcurrency) -> GroupMembership {
    GroupMembership {
        group: concurrency.group.clone(),
        cancel_in_progress: concurrency.cancel_in_progress,
        keep_waiting: concurrency.queue_all,
    }
}

/// The concurrency groups of a run's jobs, kept in the history.
pub struct HistoryJobGroups {
    history: Mutex<sluice_store::History>,
    run_id: i64,
    repository: String,
    last_recovery: Mutex<Instant>,
    warned: AtomicBool,
}

impl HistoryJobGroups {
    pub fn new(history: sluice_store::History, run_id: i64, repository: String) -> Self {
        HistoryJobGroups {
            history: Mutex::new(history),
            run_id,
            repository,
            last_recovery: Mutex::new(Instant::now()),
            warned: AtomicBool::new(false),
        }
    }

    /// A history that fails here is reported once; the job then runs as
    /// if it had no group (never wait for ever on a broken file).
    fn warn(&self, error: &sluice_store::StoreError) {
        if !self.warned.swap(true, Ordering::Relaxed) {
            eprintln!("warning: job concurrency groups cannot be kept: {error}");
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, sluice_store::History> {
        self.history.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl JobGroups for HistoryJobGroups {
    fn join(&self, job: &JobKey, concurrency: &PlannedConcurrency) {
        let joined = self.store().join_job_group(
            self.run_id,
            job,
            &self.repository,
            &membership(concurrency),
        );
        if let Err(error) = joined {
            self.warn(&error);
        }
    }

    fn turn(&self, job: &JobKey) -> GroupTurn {
        let history = self.store();
        match history.job_turn(self.run_id, job) {
            Ok(JobTurn::Run) => GroupTurn::Run,
            Ok(JobTurn::Wait) => {
                // Whoever holds the group may have died: free it now and then.
                let mut last = self
                    .last_recovery
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if last.elapsed() >= RECOVERY_INTERVAL {
                    *last = Instant::now();
                    let _ = history.recover_interrupted();
                }
                GroupTurn::Wait
            }
            Ok(JobTurn::Replaced) => GroupTurn::Replaced,
            Ok(JobTurn::StopRequested) => GroupTurn::StopRequested,
            Err(error) => {
                self.warn(&error);
                GroupTurn::Run
            }
        }
    }

    fn leave(&self, job: &JobKey) {
        if let Err(error) = self.store().leave_job_group(self.run_id, job) {
            self.warn(&error);
        }
    }
}
