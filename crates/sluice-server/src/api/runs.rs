//! Reading runs: the list, one run, its logs and artifacts.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use sluice_store::{JobSelector, LogFilter, RunQuery, Status, StepSelector};

use super::{printable, run_number};
use crate::auth::{Access, authorize};
use crate::error::ApiError;
use crate::state::Shared;

/// Most runs one list returns.
const MAX_LIST: usize = 1000;

#[derive(Debug, Default, Deserialize)]
pub(super) struct ListQuery {
    workflow: Option<String>,
    branch: Option<String>,
    status: Option<String>,
    event: Option<String>,
    limit: Option<usize>,
}

/// `GET /api/v1/runs`: the newest first.
pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&shared, &headers, Access::Read).await?;
    let status = query
        .status
        .as_deref()
        .map(|text| {
            Status::parse(text).filter(|s| !matches!(s, Status::Pending | Status::Waiting)).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "status `{}` is not one of queued, running, success, failure, cancelled, skipped, interrupted",
                    printable(text)
                ))
            })
        })
        .transpose()?;
    let run_query = RunQuery {
        repository: Some(shared.config.repository.clone()),
        workflow: query.workflow,
        git_ref: query.branch.map(|b| format!("refs/heads/{b}")),
        status,
        event: query.event,
        limit: query.limit.unwrap_or(20).clamp(1, MAX_LIST),
    };
    let runs = shared
        .with_history(move |history| Ok(history.list_runs(&run_query)?))
        .await?;
    Ok(Json(serde_json::json!({ "runs": runs })))
}

/// `GET /api/v1/runs/{number}`: with its jobs, steps and notifications.
pub(super) async fn show(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&shared, &headers, Access::Read).await?;
    let number = run_number(&number)?;
    let repository = shared.config.repository.clone();
    let (run, notifications) = shared
        .with_history(move |history| {
            Ok((
                history.run(&repository, number)?,
                history.notifications(&repository, number)?,
            ))
        })
        .await?;
    let mut body = serde_json::to_value(run)
        .map_err(|e| ApiError::Internal(format!("cannot write the run: {e}")))?;
    body["notifications"] = serde_json::json!(notifications);
    Ok(Json(body))
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct LogQuery {
    job: Option<String>,
    step: Option<String>,
}

impl LogQuery {
    pub(super) fn job_text(&self) -> Option<String> {
        self.job.clone()
    }

    pub(super) fn step_text(&self) -> Option<String> {
        self.step.clone()
    }

    pub(super) fn filter(&self) -> LogFilter {
        LogFilter {
            job: self.job.clone().map_or(JobSelector::All, JobSelector::Auto),
            step: match &self.step {
                None => StepSelector::All,
                Some(text) => match text.parse::<usize>() {
                    Ok(n) if n >= 1 => StepSelector::Index(n - 1),
                    _ => StepSelector::Auto(text.clone()),
                },
            },
        }
    }
}

/// `GET /api/v1/runs/{number}/logs[?job=J[&step=S]]`: stored lines as
/// text (`/logs/stream` follows a running run).
pub(super) async fn logs(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(number): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers, Access::Read).await?;
    let number = run_number(&number)?;
    let repository = shared.config.repository.clone();
    let filter = query.filter();
    let lines = shared
        .with_history(move |history| Ok(history.logs(&repository, number, &filter)?))
        .await?;
    let mut text = String::new();
    for line in lines {
        text.push_str(&line.text);
        text.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text).into_response())
}

/// `GET /api/v1/runs/{number}/artifacts`
pub(super) async fn artifacts(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(number): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    authorize(&shared, &headers, Access::Read).await?;
    let number = run_number(&number)?;
    let repository = shared.config.repository.clone();
    let artifacts = shared
        .with_history(move |history| Ok(history.artifacts(&repository, number)?))
        .await?;
    Ok(Json(serde_json::json!({ "artifacts": artifacts })))
}

/// `GET /api/v1/runs/{number}/artifacts/{name}`: its files as a tar archive.
pub(super) async fn artifact(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((number, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    authorize(&shared, &headers, Access::Read).await?;
    let number = run_number(&number)?;
    let safe = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0', '"'])
        && !name.chars().any(char::is_control);
    if !safe {
        return Err(ApiError::BadRequest(format!(
            "`{}` is not an artifact name",
            printable(&name)
        )));
    }
    let exporter = Arc::clone(&shared);
    let file_name = name.clone();
    // Written to a private, unnamed temporary file and streamed from it:
    // an artifact may be larger than the server's memory.
    let file = tokio::task::spawn_blocking(move || {
        let mut file = tempfile::tempfile().map_err(|e| {
            crate::pipelines::PipelineError::Failed(format!("cannot make a temporary file: {e}"))
        })?;
        exporter
            .pipelines
            .export_artifact(number, &name, &mut file)?;
        std::io::Seek::rewind(&mut file).map_err(|e| {
            crate::pipelines::PipelineError::Failed(format!("cannot read the archive back: {e}"))
        })?;
        Ok::<_, crate::pipelines::PipelineError>(file)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the export failed: {e}")))?
    .map_err(|e| match e {
        crate::pipelines::PipelineError::Rejected(message) => ApiError::NotFound(message),
        crate::pipelines::PipelineError::Failed(message) => ApiError::Internal(message),
    })?;
    let body = axum::body::Body::from_stream(file_chunks(tokio::fs::File::from_std(file)));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/x-tar".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}.tar\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// A file's bytes as a stream of chunks.
fn file_chunks(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    futures_util::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buffer = vec![0u8; 64 * 1024];
        match tokio::io::AsyncReadExt::read(&mut file, &mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok(axum::body::Bytes::from(buffer)), Some(file)))
            }
            Err(error) => Some((Err(error), None)),
        }
    })
}
