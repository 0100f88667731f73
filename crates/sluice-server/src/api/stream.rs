//! `GET /api/v1/runs/{number}/logs/stream`: a run's lines as server-sent
//! events while it runs (`line` events of JSON), then an `end` event with
//! its status.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use serde_json::json;
use sluice_store::TailCursor;

use super::run_number;
use super::runs::LogQuery;
use crate::auth::{Access, authorize};
use crate::error::ApiError;
use crate::state::Shared;

/// How often the history is read for new lines.
const POLL: Duration = Duration::from_millis(200);

struct Follow {
    shared: Arc<Shared>,
    number: u64,
    cursor: TailCursor,
    job: Option<String>,
    step: Option<String>,
    pending: VecDeque<Event>,
    over: bool,
}

pub(super) async fn logs(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(number): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    authorize(&shared, &headers, Access::Read).await?;
    let number = run_number(&number)?;
    // The run must exist: a typo gets a 404, not an endless stream.
    let repository = shared.config.repository.clone();
    shared
        .with_history(move |history| Ok(history.run(&repository, number)?))
        .await?;
    let follow = Follow {
        shared,
        number,
        cursor: TailCursor::default(),
        job: query.job_text(),
        step: query.step_text(),
        pending: VecDeque::new(),
        over: false,
    };
    let stream = futures_util::stream::unfold(follow, |mut follow| async move {
        loop {
            if let Some(event) = follow.pending.pop_front() {
                return Some((Ok(event), follow));
            }
            if follow.over {
                return None;
            }
            if follow.shared.shutdown.is_cancelled() {
                let data = json!({ "run": follow.number, "status": "server stopping" });
                follow
                    .pending
                    .push_back(Event::default().event("end").data(data.to_string()));
                follow.over = true;
                continue;
            }
            if let Err(error) = next_lines(&mut follow).await {
                follow
                    .pending
                    .push_back(Event::default().event("error").data(error.to_string()));
                follow.over = true;
                continue;
            }
            if follow.pending.is_empty() && !follow.over {
                tokio::time::sleep(POLL).await;
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Reads what is new into `follow.pending`.
async fn next_lines(follow: &mut Follow) -> Result<(), ApiError> {
    let repository = follow.shared.config.repository.clone();
    let number = follow.number;
    let mut cursor = std::mem::take(&mut follow.cursor);
    let (tail, cursor, status) = follow
        .shared
        .with_history(move |history| {
            let tail = history.log_tail(&repository, number, &mut cursor)?;
            let status = if tail.over {
                Some(history.run(&repository, number)?.summary.status)
            } else {
                None
            };
            Ok((tail, cursor, status))
        })
        .await?;
    follow.cursor = cursor;
    for line in tail.lines {
        if !line.is_of(follow.job.as_deref(), follow.step.as_deref()) {
            continue;
        }
        let data = json!({
            "job": line.job, "job_name": line.job_name, "step": line.step,
            "step_name": line.step_name, "stream": line.stream, "at": line.at,
            "seq": line.seq, "text": line.text,
        });
        follow
            .pending
            .push_back(Event::default().event("line").data(data.to_string()));
    }
    if let Some(status) = status {
        follow.over = true;
        let data = json!({ "run": number, "status": status });
        follow
            .pending
            .push_back(Event::default().event("end").data(data.to_string()));
    }
    Ok(())
}
