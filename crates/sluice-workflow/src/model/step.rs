//! `jobs.<job_id>.steps[*]`.

use indexmap::IndexMap;

use super::Spanned;
use crate::source::Span;
use crate::token::Token;

#[derive(Debug, Clone)]
pub struct Step {
    /// 0-based position in the job.
    pub index: usize,
    /// Where the step's mapping starts.
    pub span: Span,
    /// `id:` when written, else GitHub's generated id (`__run`,
    /// `__actions_checkout`, with `_2`, `_3`... on collisions).
    pub id: String,
    pub id_written: bool,
    pub name: Option<Token>,
    pub condition: Condition,
    pub action: StepAction,
    pub env: Option<Token>,
    pub continue_on_error: Option<Token>,
    pub timeout_minutes: Option<Token>,
    /// Sluice's step cache (`cache:`), when declared.
    pub cache: Option<StepCache>,
    /// The test reports the step writes (`reports:`, Sluice's extension).
    pub reports: Option<StepReports>,
    /// `retry:` (Sluice's extension): attempts after a failure.
    pub retry: Option<StepRetry>,
}

/// `reports:` of a step.
#[derive(Debug, Clone)]
pub struct StepReports {
    pub span: Span,
    /// Globs of JUnit XML files, relative to the step's working directory.
    pub junit: Vec<Spanned<String>>,
    /// Globs of coverage reports (Cobertura, JaCoCo, LCOV, Go profiles).
    pub coverage: Vec<Spanned<String>>,
    /// Globs of benchmark result files.
    pub benchmarks: Vec<Spanned<String>>,
    /// `benchmark-format:` when the files' contents do not tell.
    pub benchmark_format: Option<Spanned<String>>,
    /// `coverage-gate:` limits the coverage must meet.
    pub coverage_gate: Option<CoverageGateSpec>,
}

/// `reports.coverage-gate`: percentages as written (checked to be 0 to 100).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CoverageGateSpec {
    pub minimum: Option<f64>,
    pub max_drop: Option<f64>,
    pub diff_minimum: Option<f64>,
    /// What the change is measured against (default: the default branch).
    pub base: Option<String>,
}

/// `retry:` of a step.
#[derive(Debug, Clone)]
pub struct StepRetry {
    pub span: Span,
    /// Attempts in all (the first one included), 1 to 10.
    pub attempts: u32,
    /// The wait before each retry, in seconds.
    pub delay_seconds: f64,
    /// A command run on retries instead of the step's script, given the
    /// failed tests of its reports (`$SLUICE_FAILED_TESTS`).
    pub rerun_failed: Option<Token>,
}

#[derive(Debug, Clone)]
pub enum StepAction {
    Run {
        script: Token,
        shell: Option<Token>,
        working_directory: Option<Token>,
        /// `background: true`: the job goes on while the step runs.
        background: bool,
    },
    Uses {
        uses: Spanned<String>,
        with: IndexMap<String, Token>,
        background: bool,
    },
    /// `wait:` for the named background steps to finish.
    Wait(Vec<Spanned<String>>),
    /// `wait-all:` for every background step started so far.
    WaitAll,
    /// `cancel:` a background step.
    Cancel(Spanned<String>),
}

/// An `if:` as GitHub normalises it: an expression that includes a status
/// function (`success() && (...)` is added when the user wrote none).
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The expression to evaluate (without `${{ }}`).
    pub expression: String,
    /// What the user wrote and where, when they wrote anything.
    pub written: Option<Spanned<String>>,
}

impl Condition {
    /// The condition of a job or step without `if:`.
    pub fn default_success() -> Self {
        Self {
            expression: "success()".into(),
            written: None,
        }
    }
}

/// Sluice's extension: skip the step when its declared inputs are unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepCache {
    pub span: Span,
    /// Globs relative to the step's working directory.
    pub inputs: Vec<Spanned<String>>,
    pub outputs: Vec<Spanned<String>>,
    /// Names of environment variables whose values matter.
    pub env: Vec<Spanned<String>>,
}
