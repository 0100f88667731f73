//! How a step, a job or a run ended.

use serde::{Deserialize, Serialize};

/// How a step, a job or a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Failure,
    Cancelled,
    Skipped,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Cancelled => "cancelled",
            Outcome::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "success" => Outcome::Success,
            "failure" => Outcome::Failure,
            "cancelled" => Outcome::Cancelled,
            "skipped" => Outcome::Skipped,
            _ => return None,
        })
    }
}
