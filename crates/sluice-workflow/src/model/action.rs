//! An action's metadata file (`action.yml` / `action.yaml`).

use std::sync::Arc;

use indexmap::IndexMap;

use super::{Spanned, Step};
use crate::source::SourceFile;
use crate::token::Token;

#[derive(Debug, Clone)]
pub struct Action {
    pub source: Arc<SourceFile>,
    pub name: String,
    /// By id as written; ids are matched case-insensitively.
    pub inputs: IndexMap<String, ActionInput>,
    pub outputs: IndexMap<String, ActionOutput>,
    pub runs: ActionRuns,
}

#[derive(Debug, Clone)]
pub struct ActionInput {
    /// May use expressions (`${{ github.token }}`).
    pub default: Option<Token>,
    pub required: bool,
    pub deprecation_message: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ActionOutput {
    /// Composite actions map outputs from their steps; other actions set
    /// them with `GITHUB_OUTPUT`.
    pub value: Option<Token>,
}

#[derive(Debug, Clone)]
pub enum ActionRuns {
    Composite {
        steps: Vec<Step>,
    },
    /// `using: node12|node16|node20|node24`.
    Node {
        using: String,
        main: Spanned<String>,
        pre: Option<Spanned<String>>,
        pre_if: Option<String>,
        post: Option<Spanned<String>>,
        post_if: Option<String>,
    },
    Docker {
        /// `Dockerfile` (a path in the action), or `docker://image`.
        image: String,
        /// The container's arguments (expressions over `inputs`).
        args: Vec<Token>,
        env: Option<Token>,
        entrypoint: Option<String>,
        pre_entrypoint: Option<String>,
        pre_if: Option<String>,
        post_entrypoint: Option<String>,
        post_if: Option<String>,
    },
}
