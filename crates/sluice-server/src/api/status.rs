//! At a glance: health, badges and metrics.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_store::{RunQuery, Status};

use crate::auth::{Access, authorize};
use crate::badge::{BadgeState, svg};
use crate::error::ApiError;
use crate::state::Shared;

pub(super) async fn health() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct BadgeQuery {
    branch: Option<String>,
}

/// `GET /badge/{WORKFLOW}.svg[?branch=B]`: public, like a README is. The
/// workflow is its file name without extension, its file name, or its name.
pub(super) async fn badge(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    Query(query): Query<BadgeQuery>,
) -> Result<Response, ApiError> {
    let Some(name) = file.strip_suffix(".svg").filter(|n| !n.is_empty()) else {
        return Err(ApiError::NotFound(
            "badges are at /badge/WORKFLOW.svg".into(),
        ));
    };
    let name = name.to_owned();
    let repository = shared.config.repository.clone();
    let git_ref = query.branch.map(|b| format!("refs/heads/{b}"));
    let label = name.clone();
    let status = shared
        .with_history(move |history| {
            let candidates = [
                format!(".github/workflows/{name}.yml"),
                format!(".github/workflows/{name}.yaml"),
                format!(".github/workflows/{name}"),
                name.clone(),
            ];
            for workflow in candidates {
                let runs = history.list_runs(&RunQuery {
                    repository: Some(repository.clone()),
                    workflow: Some(workflow),
                    git_ref: git_ref.clone(),
                    limit: 50,
                    ..RunQuery::default()
                })?;
                // Runs that say nothing of the code (cancelled, cut off) are passed over.
                let telling = runs.iter().find(|r| {
                    matches!(
                        r.status,
                        Status::Success | Status::Failure | Status::Running | Status::Queued
                    )
                });
                if let Some(run) = telling {
                    return Ok(Some(run.status));
                }
            }
            Ok(None)
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-cache, max-age=0"),
        ],
        svg(&label, BadgeState::of(status)),
    )
        .into_response())
}

/// `GET /metrics`: Prometheus' text format.
pub(super) async fn metrics(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers, Access::Read).await?;
    let repository = shared.config.repository.clone();
    let metrics = shared
        .with_history(move |history| Ok(history.metrics(&repository, &crate::metrics::BUCKETS)?))
        .await?;
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        crate::metrics::render(&metrics),
    )
        .into_response())
}
