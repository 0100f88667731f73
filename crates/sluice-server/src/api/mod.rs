//! The HTTP interface: GitHub and git hooks, the JSON API under
//! `/api/v1` (documented in docs/api.md), the badge and the metrics.

mod actions;
mod approvals;
mod hooks;
mod runs;
mod status;
mod stream;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

use crate::error::ApiError;
use crate::state::Shared;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/hooks/github", post(hooks::github))
        .route("/api/v1/hooks/git", post(hooks::git))
        .route("/api/v1/health", get(status::health))
        .route("/api/v1/runs", get(runs::list))
        .route("/api/v1/runs/{number}", get(runs::show))
        .route("/api/v1/runs/{number}/logs", get(runs::logs))
        .route("/api/v1/runs/{number}/logs/stream", get(stream::logs))
        .route("/api/v1/runs/{number}/artifacts", get(runs::artifacts))
        .route(
            "/api/v1/runs/{number}/artifacts/{name}",
            get(runs::artifact),
        )
        .route("/api/v1/runs/{number}/cancel", post(actions::cancel))
        .route("/api/v1/runs/{number}/rerun", post(actions::rerun))
        .route("/api/v1/runs/{number}/approve", post(approvals::approve))
        .route("/api/v1/runs/{number}/reject", post(approvals::reject))
        .route("/api/v1/dispatch", post(actions::dispatch))
        .route("/badge/{file}", get(status::badge))
        .route("/metrics", get(status::metrics))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(shared.config.max_body_bytes))
        .with_state(shared)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint; see docs/api.md".into())
}

/// A run number from a path.
fn run_number(text: &str) -> Result<u64, ApiError> {
    text.trim_start_matches('#')
        .parse::<u64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::BadRequest(format!("`{}` is not a run number", printable(text))))
}

/// A JSON body, or a 400 saying where it is wrong.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("the body is not valid: {e}")))
}

/// At most 100 characters, controls escaped, for messages.
fn printable(text: &str) -> String {
    text.chars()
        .take(100)
        .flat_map(char::escape_debug)
        .collect()
}
