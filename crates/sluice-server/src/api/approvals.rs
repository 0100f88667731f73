//! Deciding on a run's deployments, as `sluice approve` and `sluice
//! reject` do: `POST /api/v1/runs/{number}/approve` and `.../reject`. The
//! decision is taken in the name of the token presented; the process
//! running the run reads it from the history.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::json;
use sluice_events::ApprovalDecision;
use sluice_store::{DecisionOutcome, DecisionRequest};

use super::{json_body, run_number};
use crate::auth::token_name;
use crate::error::ApiError;
use crate::state::Shared;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    /// Needed when the run's jobs wait for several environments.
    #[serde(default)]
    environment: Option<String>,
    #[serde(default)]
    comment: Option<String>,
}

/// `POST /api/v1/runs/{number}/approve`
pub(super) async fn approve(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    decide(shared, headers, number, body, ApprovalDecision::Approve).await
}

/// `POST /api/v1/runs/{number}/reject`
pub(super) async fn reject(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    decide(shared, headers, number, body, ApprovalDecision::Reject).await
}

async fn decide(
    shared: Arc<Shared>,
    headers: HeaderMap,
    number: String,
    body: Bytes,
    decision: ApprovalDecision,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let by = token_name(&shared, &headers).await?;
    let number = run_number(&number)?;
    let body: DecisionBody = if body.is_empty() {
        DecisionBody::default()
    } else {
        json_body(&body)?
    };
    let repository = shared.config.repository.clone();
    let decider = by.clone();
    let outcome = shared
        .with_history(move |history| {
            Ok(history.decide(&DecisionRequest {
                repository: &repository,
                number,
                environment: body.environment.as_deref().map(str::trim),
                decision,
                by: &decider,
                comment: body
                    .comment
                    .as_deref()
                    .map(str::trim)
                    .filter(|c| !c.is_empty()),
                at: sluice_store::timestamp::now_ms(),
            })?)
        })
        .await?;
    answer(number, decision, &by, outcome).map(|body| (StatusCode::OK, Json(body)))
}

/// The response to a decision: what it was recorded for, or why nothing
/// was (409 when nothing waits there, 400 when the environment must be
/// named).
fn answer(
    number: u64,
    decision: ApprovalDecision,
    by: &str,
    outcome: DecisionOutcome,
) -> Result<serde_json::Value, ApiError> {
    match outcome {
        DecisionOutcome::Recorded {
            environment,
            jobs,
            approved_by,
            required_approvals,
        } => Ok(json!({
            "run": number,
            "environment": environment,
            "decision": decision.as_str(),
            "by": by,
            "jobs": jobs,
            "approved_by": approved_by,
            "required_approvals": required_approvals,
        })),
        DecisionOutcome::NothingWaiting { status } => Err(ApiError::Conflict(format!(
            "run #{number} has no job waiting for approval (the run is {status})"
        ))),
        DecisionOutcome::NotWaitingThere {
            environment,
            waiting,
        } => Err(ApiError::Conflict(format!(
            "run #{number} has no job waiting to deploy to {environment}; it waits for: {}",
            waiting.join(", ")
        ))),
        DecisionOutcome::Ambiguous { waiting } => Err(ApiError::BadRequest(format!(
            "run #{number} has jobs waiting to deploy to {}; say which with `environment`",
            waiting.join(" and ")
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_events::JobKey;

    #[test]
    fn an_approval_answers_what_it_was_recorded_for() {
        let outcome = DecisionOutcome::Recorded {
            environment: "production".into(),
            jobs: vec![JobKey::parse("deploy[1]").unwrap()],
            approved_by: vec!["release-bot".into()],
            required_approvals: 2,
        };
        let body = answer(7, ApprovalDecision::Approve, "release-bot", outcome).unwrap();
        insta::assert_json_snapshot!(body);
    }

    #[test]
    fn a_decision_nothing_waits_for_is_a_conflict() {
        let outcome = DecisionOutcome::NothingWaiting {
            status: sluice_store::Status::Success,
        };
        let error = answer(7, ApprovalDecision::Reject, "ops", outcome).unwrap_err();
        assert_eq!(error.status(), StatusCode::CONFLICT);
        let outcome = DecisionOutcome::Ambiguous {
            waiting: vec!["staging".into(), "production".into()],
        };
        let error = answer(7, ApprovalDecision::Approve, "ops", outcome).unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(error.to_string().contains("staging and production"));
    }
}
