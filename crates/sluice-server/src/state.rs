//! What every part of a running server shares.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use sluice_events::CancelToken;
use sluice_store::History;

use crate::config::ServerConfig;
use crate::error::ApiError;
use crate::pipelines::Pipelines;

pub(crate) struct Shared {
    pub config: ServerConfig,
    pub pipelines: Arc<dyn Pipelines>,
    pub histories: HistoryPool,
    /// Wakes idle workers when a run is queued.
    pub work: WorkSignal,
    /// Set when the server stops: running runs are cancelled.
    pub shutdown: CancelToken,
    /// The cancel tokens of the runs this server is running, by number,
    /// so that a cancel from the API takes effect at once.
    pub running: Mutex<HashMap<u64, CancelToken>>,
    /// Triggers being planned at once (each fetches and reads workflows).
    pub planning: tokio::sync::Semaphore,
}

/// History connections kept open between requests.
const MAX_IDLE_HISTORIES: usize = 8;

/// Most triggers planned at once; more are refused with 429.
pub(crate) const MAX_PLANNING: usize = 8;

impl Shared {
    /// Runs `body` with a history handle on a blocking thread.
    pub async fn with_history<T: Send + 'static>(
        self: &Arc<Self>,
        body: impl FnOnce(&History) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let shared = Arc::clone(self);
        tokio::task::spawn_blocking(move || shared.histories.with(body))
            .await
            .map_err(|e| ApiError::Internal(format!("a history task failed: {e}")))?
    }

    pub fn running_tokens(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CancelToken>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// History handles for threads to borrow: a connection each, opened as
/// needed and kept for the next.
pub(crate) struct HistoryPool {
    /// The handle the server opened with, from which others are made.
    first: Mutex<History>,
    idle: Mutex<Vec<History>>,
}

impl HistoryPool {
    pub fn new(first: History) -> Self {
        HistoryPool {
            first: Mutex::new(first),
            idle: Mutex::new(Vec::new()),
        }
    }

    fn open_another(&self) -> Result<History, ApiError> {
        let first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(first.reopen()?)
    }

    pub fn with<T>(
        &self,
        body: impl FnOnce(&History) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let taken = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let history = match taken {
            Some(history) => history,
            None => self.open_another()?,
        };
        let result = body(&history);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        // A burst opens connections; only a few are kept for the next.
        if idle.len() < MAX_IDLE_HISTORIES {
            idle.push(history);
        }
        result
    }

    /// A handle of its own, for a thread that keeps it.
    pub fn dedicated(&self) -> Result<History, ApiError> {
        self.open_another()
    }
}

/// A counter workers wait on: bumped whenever there may be work.
#[derive(Default)]
pub(crate) struct WorkSignal {
    generation: Mutex<u64>,
    changed: Condvar,
}

impl WorkSignal {
    pub fn notify(&self) {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner) += 1;
        self.changed.notify_all();
    }

    /// Where the counter stands: read before looking for work, so that
    /// work queued while looking is not slept through.
    pub fn current(&self) -> u64 {
        *self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until notified after `seen`, or `timeout` passes.
    pub fn wait_after(&self, seen: u64, timeout: Duration) {
        let guard = self
            .generation
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let _ = self
            .changed
            .wait_timeout_while(guard, timeout, |generation| *generation == seen);
    }
}
