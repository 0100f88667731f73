//! `jobs.<job_id>`: a job that runs steps, or one that calls a reusable
//! workflow.

use indexmap::IndexMap;

use super::{Spanned, Step, Workflow};
use crate::model::Condition;
use crate::source::Span;
use crate::token::Token;

#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    /// Where the job's id is written.
    pub span: Span,
    pub name: Option<Token>,
    pub needs: Vec<Spanned<String>>,
    pub condition: Condition,
    pub runs_on: Option<Token>,
    pub environment: Option<Token>,
    pub strategy: Option<Strategy>,
    pub services: IndexMap<String, Service>,
    pub container: Option<Token>,
    pub env: Option<Token>,
    pub defaults: RunDefaults,
    pub outputs: IndexMap<String, Token>,
    pub timeout_minutes: Option<Token>,
    pub continue_on_error: Option<Token>,
    pub concurrency: Option<Concurrency>,
    pub permissions: Option<Token>,
    pub body: JobBody,
}

impl Job {
    pub fn steps(&self) -> &[Step] {
        match &self.body {
            JobBody::Steps(steps) => steps,
            JobBody::Call(_) => &[],
        }
    }
}

#[derive(Debug, Clone)]
pub enum JobBody {
    Steps(Vec<Step>),
    Call(Box<WorkflowCall>),
}

/// `uses: ./.github/workflows/x.yml` (or `owner/repo/...@ref`) on a job.
#[derive(Debug, Clone)]
pub struct WorkflowCall {
    pub uses: Spanned<String>,
    pub with: IndexMap<String, Token>,
    pub with_spans: IndexMap<String, Span>,
    pub secrets: CallSecrets,
    /// The called workflow, when it could be read.
    pub callee: Option<Workflow>,
}

#[derive(Debug, Clone)]
pub enum CallSecrets {
    None,
    Inherit,
    Map(IndexMap<String, (Span, Token)>),
}

#[derive(Debug, Clone)]
pub struct Strategy {
    pub span: Span,
    /// The whole `matrix:` value (a mapping, or an expression).
    pub matrix: Option<Token>,
    pub fail_fast: Option<Token>,
    pub max_parallel: Option<Token>,
}

/// `defaults.run` at workflow or job level.
#[derive(Debug, Clone, Default)]
pub struct RunDefaults {
    pub shell: Option<Token>,
    pub working_directory: Option<Token>,
}

#[derive(Debug, Clone)]
pub struct Concurrency {
    pub span: Span,
    pub group: Token,
    pub cancel_in_progress: Option<Token>,
    /// `queue: max`: waiting runs (or jobs) line up instead of the newest
    /// replacing the one waiting.
    pub queue_all: bool,
}

/// `jobs.<job_id>.services.<name>`: a GitHub service container, or one of
/// Sluice's native services (`run:` with a health check).
#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub span: Span,
    pub image: Option<Token>,
    /// Sluice's native form: the command that runs the service.
    pub run: Option<Token>,
    pub env: Option<Token>,
    pub ports: Vec<Token>,
    pub options: Option<Token>,
    pub volumes: Vec<Token>,
    pub credentials: Option<Token>,
    /// Sluice's native health check: `{cmd, interval, timeout, retries, start-period}`.
    pub healthcheck: Option<Token>,
    pub command: Option<Token>,
    pub entrypoint: Option<Token>,
}
