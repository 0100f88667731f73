//! Stopping a run when someone asks through the history (`sluice
//! cancel`, the API, a newer run of its group with `cancel-in-progress`),
//! whichever process runs it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use sluice_events::{CancelLevel, CancelToken};

use crate::history::History;

/// How often the history is asked.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Escalates a run's cancel token when someone asks, through the history,
/// for the run to stop. Stops watching when dropped.
pub struct CancelWatch {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl CancelWatch {
    /// Watches run `run_id` with a history handle of its own.
    pub fn start(history: History, run_id: i64, cancel: CancelToken) -> CancelWatch {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("sluice-cancel-watch".into())
            .spawn(move || {
                while !stopping.load(Ordering::Relaxed) {
                    // A read that fails is tried again; it cannot stop the run.
                    if history.cancel_requested(run_id).unwrap_or(false) {
                        cancel.escalate(CancelLevel::Graceful);
                        return;
                    }
                    std::thread::sleep(POLL_INTERVAL);
                }
            })
            .ok();
        CancelWatch { stop, thread }
    }
}

impl Drop for CancelWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
