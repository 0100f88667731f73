//! A workflow plus an event become a plan: whether the event selects the
//! workflow, the job instances after matrix expansion, and the `needs`
//! graph they run along.
//!
//! Everything that can be known before the run is computed here; values
//! that depend on other jobs' results (a matrix built from
//! `needs.x.outputs`) are marked as decided at run time.

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value as Json;
use sluice_events::JobKey;
use sluice_expr::{Allowed, EvalHost, Value};
use sluice_workflow::{InputDef, InputType, Job, JobBody, StepAction, Token, Workflow};

use crate::event::{Event, Repository, github_context};
use crate::filters::{TriggerEvent, TriggerEventKind, TriggerFilters, evaluate_trigger_filters};
use crate::matrix::{MatrixDefinition, MatrixError, expand_matrix};

/// The version of the JSON shape of [`Plan`]; bumped on any change that is
/// not a pure addition.
pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub version: u32,
    pub workflow: PlannedWorkflow,
    pub event: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub sha: String,
    /// Whether the event starts this workflow.
    pub selected: bool,
    /// Why (or why not), in words.
    pub reason: String,
    /// The `inputs` context.
    pub inputs: Json,
    pub jobs: Vec<PlannedJob>,
    /// Jobs grouped by depth in the `needs` graph. Informational: a job
    /// starts as soon as the jobs it needs finish, not when a stage ends.
    pub stages: Vec<Vec<JobKey>>,
    /// The workflow's `concurrency`, evaluated: the group its runs share.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<crate::PlannedConcurrency>,
    /// The `github` context the run will see.
    #[serde(skip)]
    pub github: Json,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedWorkflow {
    pub name: String,
    pub path: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedJob {
    /// The job's key in the run, without a matrix instance (`test`,
    /// `deploy[1]/smoke`).
    pub id: JobKey,
    pub name: String,
    pub needs: Vec<JobKey>,
    /// The condition as it will be evaluated (GitHub's normalised form).
    #[serde(rename = "if")]
    pub condition: String,
    /// `runs-on` as far as it is known before the run.
    pub runs_on: Json,
    /// For jobs that call a reusable workflow: what they call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
    pub steps: Vec<PlannedStep>,
    /// The job's instances: one per matrix combination, or one.
    pub instances: Vec<JobInstance>,
    /// Set when the matrix can only be expanded during the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matrix_at_run_time: Option<String>,
    pub fail_fast: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_parallel: Option<u64>,
    /// For a job that calls a reusable workflow: the jobs the call adds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<crate::calls::PlannedCall>,
    /// For a job of a called workflow: the caller instance's key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub called_by: Option<JobKey>,
    /// The needs whose results and outputs the job sees (`needs.<id>`):
    /// each as its key in the run and its id in the job's own workflow.
    #[serde(skip)]
    pub context_needs: Vec<(JobKey, String)>,
    /// Where the job's definition is.
    #[serde(skip)]
    pub origin: crate::calls::JobOrigin,
}

#[derive(Debug, Clone, Serialize)]
pub struct JobInstance {
    /// The instance's display name, e.g. `test (ubuntu, 18)`.
    pub name: String,
    /// The instance's `matrix` context (`{}` without a matrix).
    pub matrix: Json,
    /// `runs-on` for this instance, as far as it is known before the run.
    pub runs_on: Json,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    pub id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uses: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("input '{name}': {problem}")]
    Input { name: String, problem: String },
    #[error("job '{job}': {source}")]
    Matrix {
        job: String,
        #[source]
        source: MatrixError,
    },
    #[error("job '{job}': {problem}")]
    Job { job: String, problem: String },
    #[error("{0}")]
    Filters(String),
    #[error("the jobs {0} need each other in a cycle")]
    Cycle(String),
    #[error(transparent)]
    Concurrency(#[from] crate::ConcurrencyError),
}

/// What the plan needs besides the workflow.
pub struct PlanRequest<'a> {
    pub workflow: &'a Workflow,
    /// The workflow file's path relative to the repository root.
    pub workflow_path: &'a str,
    pub event: &'a Event,
    pub repo: &'a Repository,
    /// The `vars` context (configuration variables).
    pub vars: &'a IndexMap<String, String>,
}

pub fn build_plan(request: &PlanRequest) -> Result<Plan, PlanError> {
    let workflow = request.workflow;
    let event = request.event;
    let (selected, reason) = selection(workflow, event)?;
    let inputs = inputs_context(workflow, event, selected)?;
    let github = github_context(request.repo, event, &workflow.name, request.workflow_path);
    let vars: IndexMap<String, Value> = request
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let contexts = IndexMap::from([
        ("github".to_string(), Value::from_json(&github)),
        ("inputs".to_string(), Value::from_json(&inputs)),
        ("vars".to_string(), Value::Object(vars)),
    ]);
    let workflow_level = Allowed::new().with_named_values(["github", "inputs", "vars"]);
    let job_level =
        Allowed::new().with_named_values(["github", "inputs", "vars", "matrix", "strategy"]);
    let host = PlanHost {
        base: &contexts,
        scoped: Vec::new(),
        allowed: &workflow_level,
    };
    let mut jobs = Vec::with_capacity(workflow.jobs.len());
    for job in workflow.jobs.values() {
        let planned = plan_job(job, &host, &job_level)?;
        crate::calls::add_job(&mut jobs, job, planned, &host, &job_level)?;
    }
    crate::calls::name_needs_exactly(&mut jobs);
    let concurrency = workflow
        .concurrency
        .as_ref()
        .map(|c| crate::evaluate_concurrency(c, &host, &workflow_level))
        .transpose()?;
    let stages = crate::calls::stages(&jobs)?;
    Ok(Plan {
        version: PLAN_FORMAT_VERSION,
        workflow: PlannedWorkflow {
            name: workflow.name.clone(),
            path: request.workflow_path.to_string(),
        },
        event: event.name.clone(),
        git_ref: event.git_ref.clone(),
        sha: event.sha.clone(),
        selected,
        reason,
        inputs,
        jobs,
        stages,
        concurrency,
        github,
    })
}

/// Whether the event starts the workflow, and why.
fn selection(workflow: &Workflow, event: &Event) -> Result<(bool, String), PlanError> {
    let Some(trigger) = workflow.trigger(&event.name) else {
        let events: Vec<&str> = workflow.on.iter().map(|t| t.event.as_str()).collect();
        return Ok((
            false,
            format!(
                "the workflow is not triggered by {} (its triggers: {})",
                event.name,
                if events.is_empty() {
                    "none".to_string()
                } else {
                    events.join(", ")
                }
            ),
        ));
    };
    let kind = match event.name.as_str() {
        "push" => TriggerEventKind::Push,
        "pull_request" | "pull_request_target" => TriggerEventKind::PullRequest,
        _ => return Ok((true, format!("triggered by {}", event.name))),
    };
    let list = |l: &Option<Vec<sluice_workflow::Spanned<String>>>| {
        l.as_ref()
            .map(|v| v.iter().map(|s| s.value.clone()).collect::<Vec<_>>())
    };
    let f = &trigger.filters;
    let filters = TriggerFilters {
        branches: list(&f.branches),
        branches_ignore: list(&f.branches_ignore),
        tags: list(&f.tags),
        tags_ignore: list(&f.tags_ignore),
        paths: list(&f.paths),
        paths_ignore: list(&f.paths_ignore),
    };
    let git_ref = match (kind, &event.base_ref) {
        (TriggerEventKind::PullRequest, Some(base)) => format!("refs/heads/{base}"),
        _ => event.git_ref.clone(),
    };
    let decision = evaluate_trigger_filters(
        &filters,
        &TriggerEvent {
            kind,
            git_ref,
            changed_files: event.changed_files.clone(),
        },
    )
    .map_err(|e| PlanError::Filters(format!("on.{}: {e}", event.name)))?;
    Ok((decision.selected, decision.reason))
}

/// The `inputs` context: typed `workflow_dispatch` inputs with defaults,
/// or the defaults of `workflow_call` inputs.
fn inputs_context(workflow: &Workflow, event: &Event, selected: bool) -> Result<Json, PlanError> {
    let definitions = match event.name.as_str() {
        "workflow_dispatch" => workflow.trigger("workflow_dispatch").map(|t| &t.inputs),
        _ => workflow.call_interface().map(|t| &t.inputs),
    };
    let mut context = serde_json::Map::new();
    if event.name == "workflow_dispatch" && selected {
        for name in event.inputs.keys() {
            if !definitions.is_some_and(|d| d.keys().any(|k| k.eq_ignore_ascii_case(name))) {
                let known: Vec<&str> = definitions
                    .map(|d| d.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                return Err(PlanError::Input {
                    name: name.clone(),
                    problem: if known.is_empty() {
                        "the workflow's workflow_dispatch trigger takes no inputs".into()
                    } else {
                        format!("not defined; the inputs are: {}", known.join(", "))
                    },
                });
            }
        }
    }
    for (name, def) in definitions.into_iter().flatten() {
        let given = event
            .inputs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone());
        let value = match given {
            Some(text) => typed_input(def, &text)?,
            None => {
                if def.required
                    && def.default.is_none()
                    && event.name == "workflow_dispatch"
                    && selected
                {
                    return Err(PlanError::Input {
                        name: name.clone(),
                        problem: format!("required; pass it with --input {name}=VALUE"),
                    });
                }
                default_input(def)
            }
        };
        context.insert(name.clone(), value);
    }
    Ok(Json::Object(context))
}

fn typed_input(def: &InputDef, text: &str) -> Result<Json, PlanError> {
    let problem = |p: String| PlanError::Input {
        name: def.name.clone(),
        problem: p,
    };
    Ok(match def.input_type {
        InputType::Boolean => match text {
            "true" => Json::Bool(true),
            "false" => Json::Bool(false),
            _ => {
                return Err(problem(format!(
                    "'{text}' is not a boolean; use true or false"
                )));
            }
        },
        InputType::Number => {
            let n: f64 = text
                .trim()
                .parse()
                .map_err(|_| problem(format!("'{text}' is not a number")))?;
            if !n.is_finite() {
                return Err(problem(format!("'{text}' is not a finite number")));
            }
            Value::Number(n).to_json()
        }
        InputType::Choice if !def.options.iter().any(|o| o == text) => {
            return Err(problem(format!(
                "'{text}' is not one of the options: {}",
                def.options.join(", ")
            )));
        }
        _ => Json::String(text.to_string()),
    })
}

fn default_input(def: &InputDef) -> Json {
    match (&def.default, def.input_type) {
        (Some(token), _) => token.to_json(),
        (None, InputType::Boolean) => Json::Bool(false),
        (None, InputType::Number) => Json::from(0),
        (None, _) => Json::String(String::new()),
    }
}

/// Contexts known before the run: the workflow-level ones, plus `matrix`
/// and `strategy` for one job instance.
pub(crate) struct PlanHost<'a> {
    pub(crate) base: &'a IndexMap<String, Value>,
    scoped: Vec<(&'static str, Value)>,
    pub(crate) allowed: &'a Allowed,
}

impl EvalHost for PlanHost<'_> {
    fn context(&self, name: &str) -> Option<&Value> {
        self.scoped
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .or_else(|| {
                self.base
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v)
            })
    }
}

impl<'a> PlanHost<'a> {
    pub(crate) fn new(base: &'a IndexMap<String, Value>, allowed: &'a Allowed) -> PlanHost<'a> {
        PlanHost {
            base,
            scoped: Vec::new(),
            allowed,
        }
    }

    pub(crate) fn with(
        &self,
        scoped: Vec<(&'static str, Value)>,
        allowed: &'a Allowed,
    ) -> PlanHost<'a> {
        PlanHost {
            base: self.base,
            scoped,
            allowed,
        }
    }

    /// Evaluates a token if it only uses contexts known now.
    fn try_evaluate(&self, token: &Token) -> Option<Value> {
        token.evaluate(self, self.allowed).ok()
    }
}

pub(crate) fn plan_job(
    job: &Job,
    host: &PlanHost,
    job_level: &Allowed,
) -> Result<PlannedJob, PlanError> {
    let strategy = job.strategy.as_ref();
    let fail_fast = strategy
        .and_then(|s| s.fail_fast.as_ref())
        .and_then(|t| host.try_evaluate(t))
        .is_none_or(|v| v.to_boolean());
    let max_parallel = strategy
        .and_then(|s| s.max_parallel.as_ref())
        .and_then(|t| host.try_evaluate(t))
        .map(|v| v.to_number())
        .filter(|n| n.is_finite() && *n >= 1.0)
        .map(|n| n as u64);
    let mut matrix_at_run_time = None;
    let combinations: Vec<(IndexMap<String, Value>, Option<String>)> =
        match strategy.and_then(|s| s.matrix.as_ref()) {
            None => vec![(IndexMap::new(), None)],
            Some(token) => match host.try_evaluate(token) {
                None => {
                    matrix_at_run_time = Some(
                        "the matrix uses values known only during the run (e.g. needs outputs)"
                            .to_string(),
                    );
                    Vec::new()
                }
                Some(value) => {
                    let definition = matrix_definition(&job.id, &value)?;
                    let base_name = job_display_name(job, host);
                    expand_matrix(&definition)
                        .map_err(|source| PlanError::Matrix {
                            job: job.id.clone(),
                            source,
                        })?
                        .into_iter()
                        .map(|instance| {
                            let name = instance.display_name(&base_name);
                            (instance.matrix, Some(name))
                        })
                        .collect()
                }
            },
        };
    let total = combinations.len();
    let compiled_name = job.name.as_ref().and_then(|t| t.compile(job_level).ok());
    let compiled_runs_on = job.runs_on.as_ref().and_then(|t| t.compile(job_level).ok());
    let instances = combinations
        .into_iter()
        .enumerate()
        .map(|(index, (matrix, default_name))| {
            let matrix_value = Value::Object(matrix.clone());
            let strategy_value = strategy_context(fail_fast, max_parallel, index, total);
            let scoped = host.with(
                vec![
                    ("matrix", matrix_value.clone()),
                    ("strategy", strategy_value),
                ],
                job_level,
            );
            let name = match (&compiled_name, default_name) {
                (Some(compiled), _) => compiled
                    .evaluate(&scoped)
                    .map(|v| v.to_display_string().into_owned())
                    .unwrap_or_else(|_| job_display_name(job, host)),
                (None, Some(name)) => name,
                (None, None) => job_display_name(job, host),
            };
            let runs_on = match &compiled_runs_on {
                Some(compiled) => compiled.evaluate(&scoped).map_or_else(
                    |_| known_or_written(job.runs_on.as_ref(), host),
                    |v| v.to_json(),
                ),
                None => known_or_written(job.runs_on.as_ref(), host),
            };
            JobInstance {
                name,
                matrix: matrix_value.to_json(),
                runs_on,
            }
        })
        .collect();
    let runs_on = known_or_written(job.runs_on.as_ref(), host);
    let steps = job
        .steps()
        .iter()
        .map(|step| PlannedStep {
            id: step.id.clone(),
            name: step_display_name(step),
            uses: match &step.action {
                StepAction::Uses { uses, .. } => Some(uses.value.clone()),
                _ => None,
            },
        })
        .collect();
    Ok(PlannedJob {
        id: JobKey::new(&job.id, None),
        name: job_display_name(job, host),
        needs: job
            .needs
            .iter()
            .map(|n| JobKey::new(&n.value, None))
            .collect(),
        condition: job.condition.expression.clone(),
        runs_on,
        uses: match &job.body {
            JobBody::Call(call) => Some(call.uses.value.clone()),
            JobBody::Steps(_) => None,
        },
        steps,
        instances,
        matrix_at_run_time,
        fail_fast,
        max_parallel,
        call: None,
        called_by: None,
        context_needs: job
            .needs
            .iter()
            .map(|n| (JobKey::new(&n.value, None), n.value.clone()))
            .collect(),
        origin: crate::calls::JobOrigin {
            calls: Vec::new(),
            local_id: job.id.clone(),
        },
    })
}

/// A job instance's key in the run: the job's key, with `[i]` for the
/// i-th instance of a matrix of several.
pub fn instance_key(job: &JobKey, index: usize, total: usize, has_matrix: bool) -> JobKey {
    if has_matrix && total > 1 {
        job.with_index(index)
    } else {
        job.clone()
    }
}

/// A token's value when it can be evaluated now, else its text.
fn known_or_written(token: Option<&Token>, host: &PlanHost) -> Json {
    token.map_or(Json::Null, |t| {
        host.try_evaluate(t)
            .map_or_else(|| t.to_json(), |v| v.to_json())
    })
}

/// The `strategy` context of one instance.
pub fn strategy_context(
    fail_fast: bool,
    max_parallel: Option<u64>,
    index: usize,
    total: usize,
) -> Value {
    let mut map = IndexMap::new();
    map.insert("fail-fast".to_string(), Value::Boolean(fail_fast));
    map.insert("job-index".to_string(), Value::Number(index as f64));
    map.insert("job-total".to_string(), Value::Number(total.max(1) as f64));
    map.insert(
        "max-parallel".to_string(),
        Value::Number(max_parallel.map_or(total.max(1) as f64, |m| m as f64)),
    );
    Value::Object(map)
}

/// The matrix as written, evaluated, split into vectors, include and exclude.
pub fn matrix_definition(job: &str, value: &Value) -> Result<MatrixDefinition, PlanError> {
    let problem = |p: String| PlanError::Job {
        job: job.to_string(),
        problem: p,
    };
    let Value::Object(entries) = value else {
        return Err(problem(format!(
            "the matrix must be a mapping, not {}",
            value.kind_name()
        )));
    };
    let mut definition = MatrixDefinition::default();
    for (key, value) in entries {
        let objects = |v: &Value| -> Result<Vec<IndexMap<String, Value>>, PlanError> {
            match v {
                Value::Array(items) => items
                    .iter()
                    .map(|item| match item {
                        Value::Object(o) => Ok(o.clone()),
                        other => Err(problem(format!(
                            "each `{key}` entry must be a mapping, not {}",
                            other.kind_name()
                        ))),
                    })
                    .collect(),
                other => Err(problem(format!(
                    "`{key}` must be a sequence of mappings, not {}",
                    other.kind_name()
                ))),
            }
        };
        match key.as_str() {
            "include" => definition.include = objects(value)?,
            "exclude" => definition.exclude = objects(value)?,
            _ => match value {
                Value::Array(items) => {
                    definition.vectors.insert(key.clone(), items.clone());
                }
                other => {
                    return Err(problem(format!(
                        "matrix vector `{key}` must be a sequence, not {}",
                        other.kind_name()
                    )));
                }
            },
        }
    }
    Ok(definition)
}

fn job_display_name(job: &Job, host: &PlanHost) -> String {
    match &job.name {
        None => job.id.clone(),
        Some(token) => match host.try_evaluate(token) {
            Some(value) => value.to_display_string().into_owned(),
            None => token.as_str().unwrap_or(&job.id).to_string(),
        },
    }
}

/// A step's name as shown before it runs: its `name`, else `Run <first
/// line of the script>` or `Run <action>` as GitHub shows it.
pub fn step_display_name(step: &sluice_workflow::Step) -> String {
    if let Some(name) = step.name.as_ref().and_then(|t| t.as_str()) {
        return name.to_string();
    }
    match &step.action {
        StepAction::Run { script, .. } => {
            let first = script
                .as_str()
                .and_then(|s| s.lines().find(|l| !l.trim().is_empty()))
                .unwrap_or("");
            format!("Run {}", first.trim())
        }
        StepAction::Uses { uses, .. } => format!("Run {}", uses.value),
        StepAction::Wait(targets) => format!(
            "Wait for {}",
            targets
                .iter()
                .map(|t| t.value.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        StepAction::WaitAll => "Wait for all background steps".into(),
        StepAction::Cancel(target) => format!("Cancel {}", target.value),
    }
}
