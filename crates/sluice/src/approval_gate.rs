//! Approvals of a run's deployments, as the executor asks for them: read
//! from the history, where `sluice approve` and the server's API write
//! them (from any process).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};

use sluice_events::{Approval, Timestamp};

/// The approvals of one run, kept in the history.
pub struct HistoryApprovals {
    history: Mutex<sluice_store::History>,
    run_id: i64,
    warned: AtomicBool,
}

impl HistoryApprovals {
    pub fn new(history: sluice_store::History, run_id: i64) -> Self {
        HistoryApprovals {
            history: Mutex::new(history),
            run_id,
            warned: AtomicBool::new(false),
        }
    }
}

impl sluice_exec::ApprovalGate for HistoryApprovals {
    fn decisions(&self, environment: &str, since: Timestamp) -> Vec<Approval> {
        let history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        match history.approval_decisions(self.run_id, environment, since) {
            Ok(decisions) => decisions,
            Err(error) => {
                // Asked again at the next poll; the job waits meanwhile (and
                // fails at its approval timeout if the history stays broken).
                if !self.warned.swap(true, Ordering::Relaxed) {
                    eprintln!("warning: approvals cannot be read from the history: {error}");
                }
                Vec::new()
            }
        }
    }
}
