//! What can go wrong with a remote action or workflow.

use super::reference::InvalidReference;

/// Why a remote reference could not be made available.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RemoteError {
    #[error(transparent)]
    Invalid(#[from] InvalidReference),
    #[error(
        "`{reference}` is not allowed by `allowed-actions` in sluice.toml (allowed: {allowed}); add a pattern for it to run it"
    )]
    NotAllowed { reference: String, allowed: String },
    #[error("{url} cannot be reached: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "`{reference}`: {url} has no tag or branch `{git_ref}` (a commit must be given as its full 40-character SHA)"
    )]
    RefNotFound {
        reference: String,
        url: String,
        git_ref: String,
    },
    #[error("{url} does not have commit {commit}")]
    CommitNotFound { url: String, commit: String },
    #[error(
        "{url}: the commit fetched is {found}, not {wanted}; the action is not run (its pin does not match what the server has)"
    )]
    PinMismatch {
        url: String,
        wanted: String,
        found: String,
    },
    #[error(
        "`{reference}` is not in Sluice's cache and {url} cannot be reached ({reason}); run `sluice actions pull` while online, or vendor a copy at {vendor}"
    )]
    Offline {
        reference: String,
        url: String,
        reason: String,
        vendor: String,
    },
    #[error("`{reference}` is not in Sluice's cache (nothing is fetched here)")]
    NotCached { reference: String },
    #[error("cannot {action}: {reason}")]
    Local {
        action: &'static str,
        reason: String,
    },
}

impl From<sluice_cache::CacheError> for RemoteError {
    fn from(error: sluice_cache::CacheError) -> Self {
        RemoteError::Local {
            action: "use the cache",
            reason: error.to_string(),
        }
    }
}
