//! A call of a reusable workflow while the run goes on: what the called
//! jobs see, and what the call comes to.
//!
//! When the first job of a call is about to start, the call's scope is
//! made, once per caller instance: the caller's `if` (the call runs only if
//! it holds, whatever the called jobs' own conditions say), the `inputs`
//! from its `with:` (evaluated with the caller's `needs`, `matrix` and
//! `inputs`, checked against the called workflow's types), and the
//! `secrets` it passes (`inherit`, or named values). When all the called
//! jobs are done, the caller gets its result (failure if any failed) and
//! its outputs (`on.workflow_call.outputs`, evaluated over the called jobs'
//! results and outputs as the `jobs` context).

use indexmap::IndexMap;
use sluice_expr::{Allowed, Value};
use sluice_workflow::{CallSecrets, Job, Workflow, WorkflowCall};

use crate::eval_host::{RunHost, Status, string_object};
use crate::events::Outcome;

/// What the jobs of one call (one caller instance) see.
#[derive(Debug, Clone)]
pub(crate) struct CallScope {
    /// `Some(reason)` when the call does not run (its `if` was false, or
    /// the call above it did not run).
    pub skipped: Option<String>,
    /// `Some(reason)` when the call cannot run (bad inputs).
    pub failed: Option<String>,
    pub inputs: Value,
    pub secrets: IndexMap<String, String>,
}

/// What the scheduler knows of a caller instance when its scope is made.
pub(crate) struct CallerState<'a> {
    pub job: &'a Job,
    pub call: &'a WorkflowCall,
    pub callee: &'a Workflow,
    /// The run's `github` and `vars`, and the caller's `needs`, `matrix`,
    /// `strategy` and `inputs` (its own workflow's).
    pub contexts: IndexMap<String, Value>,
    /// Results of the caller's own needs (for its `if`).
    pub needs: Vec<(String, Outcome)>,
    pub ancestors_failed: bool,
    pub cancelled: bool,
    /// The scope the caller itself runs in (a nested call), if any.
    pub parent: Option<&'a CallScope>,
    /// The run's secrets (for a caller in the run's own workflow).
    pub run_secrets: &'a IndexMap<String, String>,
    pub workspace: &'a std::path::Path,
}

/// Makes the scope of one caller instance.
pub(crate) fn make_scope(caller: &CallerState) -> CallScope {
    let mut scope = CallScope {
        skipped: None,
        failed: None,
        inputs: Value::Object(IndexMap::new()),
        secrets: IndexMap::new(),
    };
    if let Some(parent) = caller.parent {
        if let Some(reason) = &parent.skipped {
            scope.skipped = Some(reason.clone());
            return scope;
        }
        if let Some(reason) = &parent.failed {
            scope.failed = Some(reason.clone());
            return scope;
        }
    }
    let parent_secrets = caller.parent.map_or(caller.run_secrets, |p| &p.secrets);
    let mut contexts = caller.contexts.clone();
    contexts.insert("secrets".into(), string_object(parent_secrets));
    let host = RunHost {
        contexts: &contexts,
        status: Status::Job {
            needs: caller
                .needs
                .iter()
                .map(|(k, r)| (k.to_ascii_lowercase(), *r))
                .collect(),
            ancestors_failed: caller.ancestors_failed,
            cancelled: caller.cancelled,
        },
        workspace: caller.workspace,
    };
    let condition = &caller.job.condition;
    match host.condition(&condition.expression) {
        Ok(true) => {}
        Ok(false) => {
            scope.skipped = Some(match &condition.written {
                Some(written) => format!("the call's if: {} was false", written.value.trim()),
                None if caller.cancelled => "the run was cancelled".into(),
                None => "the call's needed job(s) did not succeed".into(),
            });
            return scope;
        }
        Err(message) => {
            scope.failed = Some(format!("if: {message}"));
            return scope;
        }
    }
    let allowed = Allowed::new().with_named_values([
        "github", "inputs", "vars", "needs", "matrix", "strategy", "secrets",
    ]);
    match sluice_plan::call_inputs(caller.call, caller.callee, &host, &allowed) {
        Ok(inputs) => scope.inputs = Value::from_json(&inputs),
        Err(e) => {
            scope.failed = Some(format!("{}: {e}", caller.call.uses.value));
            return scope;
        }
    }
    scope.secrets = match &caller.call.secrets {
        CallSecrets::Inherit => parent_secrets.clone(),
        CallSecrets::None => IndexMap::new(),
        CallSecrets::Map(map) => {
            let mut passed = IndexMap::new();
            for (name, (_, token)) in map {
                match host.string(token) {
                    Ok(value) => {
                        passed.insert(name.clone(), value);
                    }
                    Err(message) => {
                        scope.failed = Some(format!("secrets.{name}: {message}"));
                        return scope;
                    }
                }
            }
            passed
        }
    };
    scope
}

/// A called job's result and outputs, by its id in the called workflow.
pub(crate) struct CalledJob {
    pub id: String,
    pub result: Outcome,
    pub outputs: IndexMap<String, String>,
}

/// The result and outputs of a call whose jobs are all done.
pub(crate) fn finish_call(
    callee: &Workflow,
    scope: &CallScope,
    called: &[CalledJob],
    contexts: &IndexMap<String, Value>,
    workspace: &std::path::Path,
) -> (Outcome, IndexMap<String, String>, Option<String>) {
    if let Some(reason) = &scope.skipped {
        return (Outcome::Skipped, IndexMap::new(), Some(reason.clone()));
    }
    if let Some(reason) = &scope.failed {
        return (Outcome::Failure, IndexMap::new(), Some(reason.clone()));
    }
    let results: Vec<Outcome> = called.iter().map(|c| c.result).collect();
    let result = if results.contains(&Outcome::Failure) {
        Outcome::Failure
    } else if results.contains(&Outcome::Cancelled) {
        Outcome::Cancelled
    } else if !results.is_empty() && results.iter().all(|r| *r == Outcome::Skipped) {
        Outcome::Skipped
    } else {
        Outcome::Success
    };
    let jobs: IndexMap<String, Value> = called
        .iter()
        .map(|c| {
            let mut entry = IndexMap::new();
            entry.insert("result".into(), Value::String(c.result.as_str().into()));
            entry.insert("outputs".into(), string_object(&c.outputs));
            (c.id.clone(), Value::Object(entry))
        })
        .collect();
    let mut contexts = contexts.clone();
    contexts.insert("jobs".into(), Value::Object(jobs));
    contexts.insert("inputs".into(), scope.inputs.clone());
    let host = RunHost {
        contexts: &contexts,
        status: Status::Step {
            failed: result == Outcome::Failure,
            cancelled: false,
        },
        workspace,
    };
    let mut outputs = IndexMap::new();
    let mut problem = None;
    if let Some(interface) = callee.call_interface() {
        for (name, output) in &interface.outputs {
            match host.string(&output.value) {
                Ok(value) => {
                    outputs.insert(name.clone(), value);
                }
                Err(message) => {
                    problem = Some(format!("outputs.{name}: {message}"));
                }
            }
        }
    }
    match problem {
        Some(reason) => (Outcome::Failure, outputs, Some(reason)),
        None => (result, outputs, None),
    }
}
