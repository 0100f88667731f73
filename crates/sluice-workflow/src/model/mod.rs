//! The workflow model: what a workflow file says, typed and with positions.
//!
//! Keys whose value is only known during a run (anything that may hold an
//! expression evaluated with run-time contexts) are kept as [`Token`]s; keys
//! GitHub fixes at parse time (job ids, `needs`, `uses`, triggers) are typed.

mod action;
mod job;
mod step;
mod trigger;

use std::sync::Arc;

use indexmap::IndexMap;

pub use action::{Action, ActionInput, ActionOutput, ActionRuns};
pub use job::{
    CallSecrets, Concurrency, Job, JobBody, RunDefaults, Service, Strategy, WorkflowCall,
};
pub use step::{Condition, CoverageGateSpec, Step, StepAction, StepCache, StepReports, StepRetry};
pub use trigger::{Cron, InputDef, InputType, OutputDef, RefFilters, SecretDef, Trigger};

use crate::source::{SourceFile, Span};
use crate::token::Token;

/// Where a workflow file lives decides whether Sluice's extensions are
/// plain syntax or a portability warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `.github/workflows`: GitHub will also read the file.
    GitHub,
    /// `.sluice/workflows`: only Sluice reads the file.
    Sluice,
}

#[derive(Debug, Clone)]
pub struct Workflow {
    pub source: Arc<SourceFile>,
    pub dialect: Dialect,
    /// `name:`, or the file's path when absent (as GitHub shows it).
    pub name: String,
    pub name_written: bool,
    pub run_name: Option<Token>,
    pub description: Option<String>,
    /// Triggers in the order written.
    pub on: Vec<Trigger>,
    pub env: Option<Token>,
    pub defaults: RunDefaults,
    pub concurrency: Option<Concurrency>,
    pub permissions: Option<Token>,
    pub jobs: IndexMap<String, Job>,
}

impl Workflow {
    pub fn trigger(&self, event: &str) -> Option<&Trigger> {
        self.on.iter().find(|t| t.event == event)
    }

    /// Whether any trigger filters on changed paths (`paths:` or
    /// `paths-ignore:`), which is what makes a run look up changed files.
    pub fn uses_path_filters(&self) -> bool {
        self.on
            .iter()
            .any(|t| t.filters.paths.is_some() || t.filters.paths_ignore.is_some())
    }

    /// The `workflow_call` interface when this workflow is reusable.
    pub fn call_interface(&self) -> Option<&Trigger> {
        self.trigger("workflow_call")
    }
}

/// A string with the place it was written.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Spanned<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}
