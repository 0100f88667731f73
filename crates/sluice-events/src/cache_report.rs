//! What a cache lookup reports.

use serde::{Deserialize, Serialize};

/// Which cache a lookup used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheKind {
    /// Sluice's step cache (`cache:` on a step).
    Step,
    /// `actions/cache` and its `restore`/`save` variants.
    Key,
}

impl CacheKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheKind::Step => "step",
            CacheKind::Key => "key",
        }
    }
}

/// How a cache lookup went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CacheResult {
    /// The exact key was found.
    Hit,
    /// A restore key (or a prefix of the key) matched.
    Partial,
    Miss,
}

impl CacheResult {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheResult::Hit => "hit",
            CacheResult::Partial => "partial",
            CacheResult::Miss => "miss",
        }
    }
}
