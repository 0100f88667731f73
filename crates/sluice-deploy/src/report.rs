//! What a deploy did, for the terminal and the history.

use std::time::Duration;

use serde::Serialize;

use crate::colour::Colour;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Live, and the watch saw it healthy.
    Succeeded,
    /// Live, but the watch had too little traffic to judge.
    Inconclusive,
    /// Never took traffic: did not start, get healthy or pass its smoke test.
    Failed,
    /// Took traffic, breached the watch, and the old version serves again.
    RolledBack,
    /// Breached the watch with nothing healthy to go back to (the first
    /// version, or an old colour that stopped answering): it keeps serving.
    Breached,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Inconclusive => "inconclusive",
            Outcome::Failed => "failed",
            Outcome::RolledBack => "rolled-back",
            Outcome::Breached => "breached",
        }
    }

    /// The new version serves users.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            Outcome::Succeeded | Outcome::Inconclusive | Outcome::Breached
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Deploy,
    /// `sluice rollback`: a known version back, without a watch.
    Rollback,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeployReport {
    pub app: String,
    pub kind: Kind,
    pub version: String,
    pub colour: Colour,
    /// What served before (and serves again after a rollback).
    pub previous_version: Option<String>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub started_at_ms: u64,
    /// Started to healthy and smoke-tested.
    pub ready_ms: Option<u64>,
    pub switched_at_ms: Option<u64>,
    pub finished_at_ms: u64,
    pub watch: Option<WatchFigures>,
    /// From the breach being seen to the old version taking traffic again.
    pub breach_to_restore_ms: Option<u64>,
    /// When the old version took traffic again.
    pub restored_at_ms: Option<u64>,
    /// The old colour had finished what it served before it was stopped
    /// (false: the drain timeout stopped it).
    pub drained: Option<bool>,
    /// What an earlier, interrupted command left and how it was settled.
    pub recovered: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchFigures {
    pub requests: u64,
    pub errors: u64,
    pub p95_ms: Option<f64>,
    pub verdict: String,
}

pub(crate) fn millis(d: Duration) -> u64 {
    d.as_millis().min(u128::from(u64::MAX)) as u64
}
