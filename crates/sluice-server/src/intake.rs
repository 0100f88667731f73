//! Turning a trigger into queued runs: planned by the engine (which
//! fetches the commit and reads its workflows), numbered and queued in
//! the history, and the workers woken.

use std::sync::Arc;

use serde::Serialize;
use sluice_store::{QueueRequest, Starter};

use crate::error::ApiError;
use crate::pipelines::{PipelineError, Trigger};
use crate::state::Shared;

/// A run a trigger queued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QueuedRun {
    pub number: u64,
    pub workflow: String,
    pub workflow_path: String,
    /// Runs of its concurrency group it replaced (they will not start).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub replaced: Vec<u64>,
    /// Runs of its group asked to stop (`cancel-in-progress`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cancelling: Vec<u64>,
}

/// Plans `trigger` and queues its runs. Refused (429) while the queue is
/// full or too many triggers are being planned.
pub(crate) async fn accept(
    shared: &Arc<Shared>,
    trigger: Trigger,
) -> Result<Vec<QueuedRun>, ApiError> {
    let Ok(_permit) = shared.planning.try_acquire() else {
        return Err(ApiError::TooMany(
            "too many triggers are being planned at once; try again shortly".into(),
        ));
    };
    let limit = shared.config.queue_limit;
    let repository = shared.config.repository.clone();
    let depth = shared
        .with_history(move |history| Ok(history.queue_depth(&repository)?))
        .await?;
    if depth >= limit {
        return Err(ApiError::TooMany(format!(
            "{depth} runs are queued (the limit is {limit}); try again once some have started"
        )));
    }
    let planner = Arc::clone(shared);
    let queued = tokio::task::spawn_blocking(move || queue_planned(&planner, &trigger))
        .await
        .map_err(|e| ApiError::Internal(format!("planning failed: {e}")))??;
    shared.work.notify();
    Ok(queued)
}

/// Plans and queues on the calling (blocking) thread.
pub(crate) fn queue_planned(
    shared: &Shared,
    trigger: &Trigger,
) -> Result<Vec<QueuedRun>, ApiError> {
    let planned = shared.pipelines.plan(trigger).map_err(|e| match e {
        PipelineError::Rejected(message) => ApiError::Unprocessable(message),
        PipelineError::Failed(message) => ApiError::Internal(message),
    })?;
    let mut queued = Vec::new();
    for run in planned {
        let request = serde_json::to_string(&run.request)
            .map_err(|e| ApiError::Internal(format!("cannot keep the run's request: {e}")))?;
        let result = shared.histories.with(|history| {
            Ok(history.enqueue(&QueueRequest {
                repository: shared.config.repository.clone(),
                workflow: run.workflow.clone(),
                workflow_path: run.request.workflow_path.clone(),
                event: run.request.event.clone(),
                git_ref: run.request.git_ref.clone(),
                sha: run.request.sha.clone(),
                request: Some(request),
                concurrency: run.concurrency.clone(),
                starter: Starter::AnyServer,
                queued_at: sluice_store::timestamp::now_ms(),
            })?)
        })?;
        // The runs this server runs stop at once; others see the flag.
        for number in &result.cancelling {
            if let Some(token) = shared.running_tokens().get(number) {
                token.escalate(sluice_events::CancelLevel::Graceful);
            }
        }
        queued.push(QueuedRun {
            number: result.number,
            workflow: run.workflow,
            workflow_path: run.request.workflow_path,
            replaced: result.replaced,
            cancelling: result.cancelling,
        });
    }
    Ok(queued)
}
