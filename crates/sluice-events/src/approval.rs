//! What someone decided about a job waiting for approval to deploy to an
//! environment: the words `sluice approve` and `sluice reject` write to the
//! history, and the executor's approval gate reads back.

use serde::{Deserialize, Serialize};

use crate::Timestamp;

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    Approve,
    Reject,
}

impl ApprovalDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalDecision::Approve => "approve",
            ApprovalDecision::Reject => "reject",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "approve" => Some(ApprovalDecision::Approve),
            "reject" => Some(ApprovalDecision::Reject),
            _ => None,
        }
    }

    /// The past tense, for messages: `approved`, `rejected`.
    pub fn past_tense(self) -> &'static str {
        match self {
            ApprovalDecision::Approve => "approved",
            ApprovalDecision::Reject => "rejected",
        }
    }
}

/// One person's decision on a run's deployment to one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub environment: String,
    pub decision: ApprovalDecision,
    /// Who decided (a user or token name, as they said).
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_read_back_their_words() {
        for decision in [ApprovalDecision::Approve, ApprovalDecision::Reject] {
            assert_eq!(ApprovalDecision::parse(decision.as_str()), Some(decision));
        }
        assert_eq!(ApprovalDecision::parse("maybe"), None);
    }
}
