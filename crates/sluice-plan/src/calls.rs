//! Jobs that call reusable workflows, expanded into the plan.
//!
//! A caller job stays in the plan (its `needs`, `if`, matrix and outputs
//! are the call's), and the jobs of the called workflow join the run, once
//! per caller instance, as `caller/job` (`caller[1]/job` for the second
//! instance of a matrix of calls), shown as `caller name / job name`.
//! Inside, they need each other as the called workflow says; the called
//! workflow's first jobs wait for the caller's own needs; and the caller
//! waits for all of its called jobs, so that a job needing the caller
//! sees the call's result and outputs. Calls nest.
//!
//! The `inputs` of a call are evaluated here when they use only what is
//! known before the run (so the called jobs' matrices can be expanded);
//! otherwise the run evaluates them when the call starts.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use sluice_events::JobKey;
use sluice_expr::{Allowed, EvalHost, Value};
use sluice_workflow::{InputType, Job, JobBody, Workflow, WorkflowCall};

use crate::plan::{PlanError, PlanHost, PlannedJob, instance_key, plan_job};

/// What a caller job calls, in the plan.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedCall {
    /// The called workflow, as written.
    pub uses: String,
    /// The caller's own needs (`needs` also lists the called jobs).
    pub needs: Vec<JobKey>,
    /// The jobs the call adds to the run, all instances.
    pub jobs: Vec<JobKey>,
}

/// Where a planned job's definition is: the calls leading to it (each a
/// caller job's id in its workflow and the caller instance), outermost
/// first, and its id in its own workflow.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOrigin {
    pub calls: Vec<(String, usize)>,
    pub local_id: String,
}

impl JobOrigin {
    /// The job this origin names in `workflow` (the run's own workflow).
    pub fn resolve<'w>(&self, workflow: &'w Workflow) -> Option<(&'w Workflow, &'w Job)> {
        let mut current = workflow;
        for (caller, _) in &self.calls {
            let JobBody::Call(call) = &current.jobs.get(caller)?.body else {
                return None;
            };
            current = call.callee.as_ref()?;
        }
        Some((current, current.jobs.get(&self.local_id)?))
    }
}

/// Appends `planned` (the plan of `job`) and, when it calls a reusable
/// workflow, the called jobs, to `out`.
pub(crate) fn add_job(
    out: &mut Vec<PlannedJob>,
    job: &Job,
    mut planned: PlannedJob,
    host: &PlanHost,
    job_level: &Allowed,
) -> Result<(), PlanError> {
    let JobBody::Call(call) = &job.body else {
        out.push(planned);
        return Ok(());
    };
    let Some(callee) = &call.callee else {
        out.push(planned);
        return Ok(());
    };
    if planned.matrix_at_run_time.is_some() {
        return Err(PlanError::Job {
            job: planned.id.to_string(),
            problem: "a job that calls a reusable workflow needs a matrix known before the run (not one built from needs outputs)".into(),
        });
    }
    let total = planned.instances.len();
    let mut called = Vec::new();
    let mut expanded = Vec::new();
    for (index, instance) in planned.instances.iter().enumerate() {
        let caller_key = instance_key(&planned.id, index, total, job.strategy.is_some());
        let matrix = Value::from_json(&instance.matrix);
        let inputs = host
            .with(vec![("matrix", matrix)], job_level)
            .inputs_for(call, callee);
        let mut base = host.base.clone();
        match inputs {
            Some(inputs) => {
                base.insert("inputs".into(), Value::from_json(&inputs));
            }
            // Known only during the run: what depends on them waits too.
            None => {
                base.shift_remove("inputs");
            }
        }
        let callee_host = PlanHost::new(&base, host.allowed);
        for callee_job in callee.jobs.values() {
            let mut inner = plan_job(callee_job, &callee_host, job_level)?;
            inner.id = caller_key.called(&callee_job.id, None);
            inner.name = format!("{} / {}", instance.name, inner.name);
            for each in &mut inner.instances {
                each.name = format!("{} / {}", instance.name, each.name);
            }
            inner.context_needs = callee_job
                .needs
                .iter()
                .map(|n| (caller_key.called(&n.value, None), n.value.clone()))
                .collect();
            inner.needs = if callee_job.needs.is_empty() {
                planned
                    .context_needs
                    .iter()
                    .map(|(full, _)| full.clone())
                    .collect()
            } else {
                inner
                    .context_needs
                    .iter()
                    .map(|(full, _)| full.clone())
                    .collect()
            };
            inner.called_by = Some(caller_key.clone());
            inner.origin = JobOrigin {
                calls: planned
                    .origin
                    .calls
                    .iter()
                    .cloned()
                    .chain([(planned.origin.local_id.clone(), index)])
                    .collect(),
                local_id: callee_job.id.clone(),
            };
            let before = expanded.len();
            add_job(&mut expanded, callee_job, inner, &callee_host, job_level)?;
            // The caller waits for its called jobs (those of nested calls
            // are waited for by the nested caller).
            called.extend(
                expanded[before..]
                    .iter()
                    .filter(|j| j.called_by.as_ref() == Some(&caller_key))
                    .map(|j| j.id.clone()),
            );
        }
    }
    planned.call = Some(PlannedCall {
        uses: call.uses.value.clone(),
        needs: planned.needs.clone(),
        jobs: called.clone(),
    });
    planned.needs.extend(called);
    out.push(planned);
    out.extend(expanded);
    Ok(())
}

/// Why the inputs of a call cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallInputError {
    #[error("input '{name}': {problem}")]
    Invalid { name: String, problem: String },
    #[error("input '{0}' is required, but not provided while calling")]
    Missing(String),
}

/// The `inputs` context of a called workflow: each input of its
/// `on.workflow_call`, from the call's `with:` (evaluated with `host`),
/// checked against its type, else its default.
pub fn call_inputs(
    call: &WorkflowCall,
    callee: &Workflow,
    host: &dyn EvalHost,
    allowed: &Allowed,
) -> Result<Json, CallInputError> {
    let mut inputs = serde_json::Map::new();
    let Some(interface) = callee.call_interface() else {
        return Ok(Json::Object(inputs));
    };
    for (name, def) in &interface.inputs {
        let given = call
            .with
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, token)| token);
        let invalid = |problem: String| CallInputError::Invalid {
            name: name.clone(),
            problem,
        };
        let value = match given {
            Some(token) => {
                let value = token
                    .evaluate(host, allowed)
                    .map_err(|e| invalid(e.to_string()))?;
                typed(def.input_type, value).map_err(invalid)?
            }
            None if def.required && def.default.is_none() => {
                return Err(CallInputError::Missing(name.clone()));
            }
            None => match &def.default {
                Some(token) => match token.evaluate(host, allowed) {
                    Ok(value) => typed(def.input_type, value).map_err(invalid)?,
                    Err(_) => token.to_json(),
                },
                None => match def.input_type {
                    InputType::Boolean => Json::Bool(false),
                    InputType::Number => Json::from(0),
                    _ => Json::String(String::new()),
                },
            },
        };
        inputs.insert(name.clone(), value);
    }
    Ok(Json::Object(inputs))
}

/// A value given for an input of `input_type`, as GitHub checks it: a
/// boolean input takes a boolean, a number input a number; a string input
/// takes what it is given, as text.
fn typed(input_type: InputType, value: Value) -> Result<Json, String> {
    match (input_type, &value) {
        (InputType::Boolean, Value::Boolean(_)) | (InputType::Number, Value::Number(_)) => {
            Ok(value.to_json())
        }
        (InputType::Boolean | InputType::Number, other) => Err(format!(
            "expected a {}, got {} '{}'",
            input_type.as_str(),
            other.kind_name(),
            other.to_display_string()
        )),
        (_, other) => Ok(Json::String(other.to_display_string().into_owned())),
    }
}

impl PlanHost<'_> {
    /// The call's inputs, when they use only what is known now.
    fn inputs_for(&self, call: &WorkflowCall, callee: &Workflow) -> Option<Json> {
        call_inputs(call, callee, self, self.allowed).ok()
    }
}

/// Writes every need as the key of the job it names: `needs` are matched
/// without regard to case, as on GitHub, and after this nothing
/// downstream has to.
pub(crate) fn name_needs_exactly(jobs: &mut [PlannedJob]) {
    let keys: Vec<JobKey> = jobs.iter().map(|j| j.id.clone()).collect();
    let exact = |need: &mut JobKey| {
        if let Some(key) = keys.iter().find(|k| k.eq_ignore_ascii_case(need)) {
            *need = key.clone();
        }
    };
    for job in jobs.iter_mut() {
        job.needs.iter_mut().for_each(exact);
        job.context_needs
            .iter_mut()
            .for_each(|(need, _)| exact(need));
        if let Some(call) = &mut job.call {
            call.needs.iter_mut().for_each(exact);
        }
    }
}

/// Jobs grouped by their depth in the graph of the planned jobs' `needs`
/// (Kahn's algorithm); a cycle is an error.
pub(crate) fn stages(jobs: &[PlannedJob]) -> Result<Vec<Vec<JobKey>>, PlanError> {
    let index: IndexMap<String, usize> = jobs
        .iter()
        .enumerate()
        .map(|(i, job)| (job.id.to_ascii_lowercase(), i))
        .collect();
    let count = jobs.len();
    let mut waiting_on = vec![0usize; count];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); count];
    for (i, job) in jobs.iter().enumerate() {
        for need in &job.needs {
            if let Some(&n) = index.get(&need.to_ascii_lowercase()) {
                waiting_on[i] += 1;
                dependents[n].push(i);
            }
        }
    }
    let mut depth = vec![0usize; count];
    let mut ready: std::collections::VecDeque<usize> =
        (0..count).filter(|&i| waiting_on[i] == 0).collect();
    let mut placed = 0;
    while let Some(i) = ready.pop_front() {
        placed += 1;
        for &d in &dependents[i] {
            depth[d] = depth[d].max(depth[i] + 1);
            waiting_on[d] -= 1;
            if waiting_on[d] == 0 {
                ready.push_back(d);
            }
        }
    }
    if placed < count {
        let stuck: Vec<&str> = jobs
            .iter()
            .zip(&waiting_on)
            .filter(|(_, w)| **w > 0)
            .map(|(job, _)| job.id.as_str())
            .collect();
        return Err(PlanError::Cycle(stuck.join(", ")));
    }
    let mut stages: Vec<Vec<JobKey>> = Vec::new();
    for (job, d) in jobs.iter().zip(depth) {
        if stages.len() <= d {
            stages.resize(d + 1, Vec::new());
        }
        stages[d].push(job.id.clone());
    }
    Ok(stages)
}
