//! Changing things: dispatching a workflow, cancelling a run, running
//! one again.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::json;
use sluice_events::CancelLevel;
use sluice_store::CancelOutcome;

use super::{json_body, run_number};
use crate::auth::{Access, authorize};
use crate::error::ApiError;
use crate::pipelines::Trigger;
use crate::request::{Rerun, RunRequest};
use crate::state::Shared;
use crate::webhook;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DispatchBody {
    workflow: String,
    #[serde(default, rename = "ref")]
    git_ref: Option<String>,
    #[serde(default)]
    inputs: IndexMap<String, serde_json::Value>,
}

/// `POST /api/v1/dispatch`: runs a workflow with `workflow_dispatch`.
pub(super) async fn dispatch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&shared, &headers, Access::Write).await?;
    let body: DispatchBody = json_body(&body)?;
    let git_ref = body
        .git_ref
        .map(|r| {
            let full = if r.starts_with("refs/") {
                r
            } else {
                format!("refs/heads/{r}")
            };
            webhook::checked_ref(&full, "ref").map_err(|e| ApiError::BadRequest(e.to_string()))
        })
        .transpose()?;
    let inputs: IndexMap<String, String> = body
        .inputs
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (name, text)
        })
        .collect();
    let payload = json!({ "inputs": inputs, "ref": git_ref, "workflow": body.workflow });
    let runs = crate::intake::accept(
        &shared,
        Trigger::Dispatch {
            workflow: body.workflow,
            git_ref,
            inputs,
            payload,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "runs": runs }))))
}

/// `POST /api/v1/runs/{number}/cancel`
pub(super) async fn cancel(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&shared, &headers, Access::Write).await?;
    let number = run_number(&number)?;
    let repository = shared.config.repository.clone();
    let outcome = shared
        .with_history(move |history| Ok(history.request_cancel(&repository, number)?))
        .await?;
    let said = match outcome {
        CancelOutcome::CancelledWhileQueued => "cancelled before it started",
        CancelOutcome::Requested => {
            if let Some(token) = shared.running_tokens().get(&number) {
                token.escalate(CancelLevel::Graceful);
            }
            "asked to stop"
        }
        CancelOutcome::AlreadyOver(_) => {
            return Err(ApiError::Conflict(format!("run #{number} already ended")));
        }
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "run": number, "cancel": said })),
    ))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RerunBody {
    #[serde(default)]
    failed_only: bool,
}

/// `POST /api/v1/runs/{number}/rerun`: the same workflow at the same
/// commit, as a new run (every job, or only those that did not succeed).
pub(super) async fn rerun(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&shared, &headers, Access::Write).await?;
    let number = run_number(&number)?;
    let body: RerunBody = if body.is_empty() {
        RerunBody::default()
    } else {
        json_body(&body)?
    };
    let repository = shared.config.repository.clone();
    let queued = shared
        .with_history(move |history| {
            let summary = history.run(&repository, number)?.summary;
            if !summary.status.is_finished() {
                return Err(ApiError::Conflict(format!(
                    "run #{number} has not ended; cancel it or wait"
                )));
            }
            let Some(text) = history.run_request(&repository, number)? else {
                return Err(ApiError::Conflict(format!(
                    "run #{number} was started by `sluice run`, not a server; run it again there"
                )));
            };
            let mut request: RunRequest = serde_json::from_str(&text)
                .map_err(|e| ApiError::Internal(format!("run #{number}'s request: {e}")))?;
            request.rerun = Some(Rerun {
                of: number,
                failed_only: body.failed_only,
            });
            let request = serde_json::to_string(&request)
                .map_err(|e| ApiError::Internal(format!("cannot keep the request: {e}")))?;
            Ok(history.requeue(
                &repository,
                number,
                &request,
                sluice_store::timestamp::now_ms(),
            )?)
        })
        .await?;
    shared.work.notify();
    Ok((
        StatusCode::CREATED,
        Json(json!({ "run": queued.number, "rerun_of": number, "failed_only": body.failed_only })),
    ))
}
