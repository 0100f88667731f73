//! A workflow's or job's `concurrency`, evaluated into the group it joins.

use serde::Serialize;
use sluice_expr::{Allowed, EvalHost};
use sluice_workflow::Concurrency;

/// A `concurrency:` with its expressions evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedConcurrency {
    pub group: String,
    pub cancel_in_progress: bool,
    /// `queue: max`: waiting members line up instead of replacing each other.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub queue_all: bool,
}

/// Why a `concurrency:` cannot be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConcurrencyError {
    #[error("concurrency.group: {0}")]
    Group(String),
    #[error("concurrency.group evaluates to an empty string")]
    EmptyGroup,
    #[error("concurrency.cancel-in-progress: {0}")]
    CancelInProgress(String),
}

/// Evaluates `concurrency` with the contexts of `host`.
pub fn evaluate_concurrency(
    concurrency: &Concurrency,
    host: &dyn EvalHost,
    allowed: &Allowed,
) -> Result<PlannedConcurrency, ConcurrencyError> {
    let group = concurrency
        .group
        .evaluate(host, allowed)
        .map_err(|e| ConcurrencyError::Group(e.to_string()))?
        .to_display_string()
        .into_owned();
    if group.is_empty() {
        return Err(ConcurrencyError::EmptyGroup);
    }
    let cancel_in_progress = match &concurrency.cancel_in_progress {
        None => false,
        Some(token) => token
            .evaluate(host, allowed)
            .map_err(|e| ConcurrencyError::CancelInProgress(e.to_string()))?
            .is_truthy(),
    };
    Ok(PlannedConcurrency {
        group,
        cancel_in_progress,
        queue_all: concurrency.queue_all,
    })
}
