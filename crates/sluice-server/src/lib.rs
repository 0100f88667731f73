//! `sluice serve`: a CI server on one machine. It takes triggers (GitHub
//! webhooks, git hooks, schedules, dispatches through its API), queues
//! the runs they start in the history, runs them on worker threads with
//! the same engine, cache and history as `sluice run`, and answers for
//! them over HTTP: the JSON API, log streams, a badge, metrics, and
//! notifications when they end.
//!
//! Only this crate speaks HTTP. It does not link the engine: the binary
//! gives it a [`Pipelines`] to plan and run with, and the engine stays
//! synchronous on the workers' threads while the server's own async
//! runtime answers requests. The queue lives in the history, so a server
//! killed with runs queued finds them on restart (runs it was running
//! are marked interrupted, and queued again with `requeue-interrupted`).

mod api;
mod auth;
mod badge;
pub mod client;
mod config;
mod error;
mod intake;
mod metrics;
mod notify;
mod pipelines;
mod request;
mod schedule;
pub mod signature;
mod state;
pub mod webhook;
mod workers;

use std::sync::Arc;

use sluice_store::History;

pub use auth::{new_token, token_digest};
pub use config::{ForkPolicy, NotifyFormat, NotifyOn, NotifyTarget, ServerConfig};
pub use error::{ApiError, ServerError};
pub use intake::QueuedRun;
pub use pipelines::{PipelineError, Pipelines, PlannedRun, Schedule, Trigger};
pub use request::{REQUEST_FORMAT_VERSION, Rerun, RunRequest};
pub use workers::fail_before_start;

use crate::state::{HistoryPool, MAX_PLANNING, Shared, WorkSignal};

/// Serves until a signal (SIGINT, SIGTERM) stops it; running runs are
/// then cancelled and recorded. `history` is the repository's, opened
/// (and so recovered) by the caller. The address listened on is printed
/// to standard output as `listening on http://ADDRESS`.
pub fn serve(
    config: ServerConfig,
    pipelines: Arc<dyn Pipelines>,
    history: History,
) -> Result<(), ServerError> {
    if config.requeue_interrupted {
        requeue_interrupted(&config, &history)?;
    }
    let shared = Arc::new(Shared {
        config,
        pipelines,
        histories: HistoryPool::new(history),
        work: WorkSignal::default(),
        shutdown: sluice_events::CancelToken::new(),
        running: std::sync::Mutex::new(std::collections::HashMap::new()),
        planning: tokio::sync::Semaphore::new(MAX_PLANNING),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(ServerError::Runtime)?;
    let address = shared.config.listen;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(address))
        .map_err(|source| ServerError::Listen { address, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServerError::Listen { address, source })?;
    let workers = workers::start(&shared).map_err(ServerError::Thread)?;
    let ticker = schedule::start(&shared).map_err(ServerError::Thread)?;
    println!("listening on http://{bound}");
    let router = api::router(Arc::clone(&shared));
    let served = runtime.block_on(async {
        axum::serve(listener, router)
            .with_graceful_shutdown(stop_signal())
            .await
    });
    shared
        .shutdown
        .escalate(sluice_events::CancelLevel::Graceful);
    shared.work.notify();
    for worker in workers {
        let _ = worker.join();
    }
    let _ = ticker.join();
    served.map_err(|source| ServerError::Listen { address, source })
}

/// Runs a server was running when it died, queued again (whoever
/// recovered them: the history marks each one queued again once).
fn requeue_interrupted(config: &ServerConfig, history: &History) -> Result<(), ServerError> {
    for (number, again) in history.requeue_interrupted(&config.repository)? {
        eprintln!("sluice serve: run #{number} was cut off; it is queued again as run #{again}");
    }
    Ok(())
}

async fn stop_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        // Without signal handling the server runs until killed.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
}
