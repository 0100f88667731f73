//! Triggers from outside: GitHub's webhooks (signed) and git hooks
//! (with a token).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::json;

use crate::auth::{Access, authorize};
use crate::config::ForkPolicy;
use crate::error::ApiError;
use crate::pipelines::Trigger;
use crate::signature;
use crate::state::Shared;
use crate::webhook::{self, Delivery};

/// `POST /hooks/github`: a webhook delivery, checked against the secret
/// before anything of it is read.
pub(super) async fn github(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let Some(secret) = shared
        .config
        .webhook_secret
        .as_ref()
        .filter(|s| !s.is_empty())
    else {
        return Err(ApiError::Unauthorized(
            "webhooks are off: set SLUICE_WEBHOOK_SECRET or webhook-secret in sluice.toml".into(),
        ));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if !signature::verify(secret, &body, header("x-hub-signature-256")) {
        return Err(ApiError::Unauthorized(
            "X-Hub-Signature-256 is missing or does not match the body under the webhook secret"
                .into(),
        ));
    }
    let event = header("x-github-event")
        .ok_or_else(|| ApiError::BadRequest("X-GitHub-Event is missing".into()))?;
    let delivery = webhook::read(event, &body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let ignored = |reason: String| {
        Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "runs": [], "ignored": reason })),
        ))
    };
    let trigger = match delivery {
        Delivery::Ping => return Ok((StatusCode::OK, Json(json!({ "pong": true })))),
        Delivery::Ignored(reason) => return ignored(reason),
        Delivery::Trigger(Trigger::PullRequest {
            from_fork: true, ..
        }) if shared.config.fork_pull_requests == ForkPolicy::Refuse => {
            return ignored(
                "a pull request from a fork does not run here (its code would run on this \
                 machine); set fork-pull-requests = \"without-secrets\" to run such pull \
                 requests with no secrets"
                    .into(),
            );
        }
        Delivery::Trigger(trigger) => trigger,
    };
    // A delivery is taken once: GitHub's redeliveries and replays of a
    // captured one queue nothing again.
    let delivery_id = header("x-github-delivery").map(str::to_owned);
    if let Some(id) = delivery_id.clone() {
        let first = shared
            .with_history(move |history| {
                Ok(history.first_delivery(&id, sluice_store::timestamp::now_ms())?)
            })
            .await?;
        if !first {
            return ignored("this delivery was taken before".into());
        }
    }
    match crate::intake::accept(&shared, trigger).await {
        Ok(runs) => Ok((StatusCode::ACCEPTED, Json(json!({ "runs": runs })))),
        Err(error) => {
            // Refused: a redelivery may try again.
            if let Some(id) = delivery_id {
                let _ = shared
                    .with_history(move |history| Ok(history.forget_delivery(&id)?))
                    .await;
            }
            Err(error)
        }
    }
}

/// `POST /api/v1/hooks/git`: what a `post-receive` (or `post-commit`)
/// hook read on its standard input, as is: lines of `old new ref`.
pub(super) async fn git(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    authorize(&shared, &headers, Access::Write).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the body is not UTF-8 text".into()))?;
    let mut pushes = Vec::new();
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [before, after, git_ref] = fields[..] else {
            return Err(ApiError::BadRequest(format!(
                "line {}: expected `old-sha new-sha ref`, as a post-receive hook reads",
                index + 1
            )));
        };
        let bad =
            |e: webhook::WebhookError| ApiError::BadRequest(format!("line {}: {e}", index + 1));
        let before = webhook::checked_sha(before, "old").map_err(bad)?;
        let after = webhook::checked_sha(after, "new").map_err(bad)?;
        let git_ref = webhook::checked_ref(git_ref, "ref").map_err(bad)?;
        if after.bytes().all(|b| b == b'0') {
            continue;
        }
        let payload = json!({
            "ref": git_ref, "before": before, "after": after,
            "created": before.bytes().all(|b| b == b'0'), "deleted": false,
        });
        pushes.push(Trigger::Push {
            git_ref,
            before,
            after,
            payload,
        });
    }
    let mut runs = Vec::new();
    for push in pushes {
        runs.extend(crate::intake::accept(&shared, push).await?);
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "runs": runs }))))
}
