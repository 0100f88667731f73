//! The DAG scheduler: a job instance starts the moment every job it needs
//! has finished and a slot is free — never in stages.
//!
//! Job instances run on scoped worker threads (started as needed, one per
//! instance running at once, and reused); the scheduler's loop owns all
//! bookkeeping and hears of finished instances over a channel, so no state
//! is shared between jobs except through the events they emit.

use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_plan::JobOrigin;
use sluice_workflow::{Job, JobBody, Workflow, WorkflowCall};

use crate::assignment::{ASSIGNMENT_FORMAT_VERSION, JobAssignment};
use crate::call_scope::{CallScope, CalledJob, CallerState, finish_call, make_scope};
use crate::environment_gate::{self, EnvironmentGate, EnvironmentState, Waiter};
use crate::eval_host::{RunHost, Status, string_object};
use crate::events::{CancelLevel, CancelToken};
use crate::events::{Event, EventSink, JobInfo, JobKey, LogLevel, Outcome, now};
use crate::job::{JobReport, run_job};
use crate::job_groups::{self, Gate, Membership};
use crate::mask::Masker;
use crate::run_spec::{RunSpec, Shared};

/// How a run ended.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub result: Outcome,
    pub jobs: Vec<JobSummary>,
    pub duration: Duration,
    pub critical_path: Vec<JobKey>,
    /// Steps with `cache:` that were looked up, and how many were restored.
    pub cached_steps: (u64, u64),
}

#[derive(Debug, Clone)]
pub struct JobSummary {
    pub key: JobKey,
    pub name: String,
    pub result: Outcome,
    /// `None` for jobs that never started.
    pub duration: Option<Duration>,
    /// Why a skipped job did not run.
    pub reason: Option<String>,
}

#[derive(Debug, Clone)]
enum Phase {
    /// Waiting for its needs.
    Blocked,
    Pending,
    Running,
    Done {
        result: Outcome,
        outputs: IndexMap<String, String>,
        times: Option<(Instant, Instant)>,
        reason: Option<String>,
        /// Step-cache keys of the instance's cached steps.
        cache_keys: Vec<String>,
    },
}

struct Instance {
    key: JobKey,
    name: String,
    matrix: Value,
    strategy: Value,
    phase: Phase,
    cancel: CancelToken,
    /// Its place in its `concurrency` group, once it entered one.
    group: Option<Membership>,
    /// Where it stands with its deployment environment's rules.
    environment: EnvironmentState,
}

struct Node<'w> {
    /// The job's key without a matrix instance.
    id: JobKey,
    /// Where the job is written, for the runner to find it.
    origin: JobOrigin,
    job: &'w Job,
    /// The workflow the job is written in (a called one, for called jobs).
    workflow: &'w Workflow,
    /// What the node waits for (keys in the run).
    needs: Vec<JobKey>,
    /// The needs the job sees in `needs.<id>`: key in the run, id in its
    /// own workflow.
    context_needs: Vec<(JobKey, String)>,
    /// For a job of a called workflow: the caller instance's key.
    called_by: Option<JobKey>,
    /// For a job that calls a reusable workflow: the call and the called
    /// workflow.
    call: Option<(&'w WorkflowCall, &'w Workflow)>,
    /// `None` until a run-time matrix is expanded.
    instances: Option<Vec<Instance>>,
    decided: bool,
    fail_fast: bool,
    max_parallel: Option<usize>,
}

impl Node<'_> {
    fn done(&self) -> bool {
        self.decided
            && self
                .instances
                .as_ref()
                .is_some_and(|i| i.iter().all(|i| matches!(i.phase, Phase::Done { .. })))
    }

    /// One result for the whole job (all its instances).
    fn result(&self) -> Outcome {
        let results: Vec<Outcome> = self
            .instances
            .iter()
            .flatten()
            .filter_map(|i| match i.phase {
                Phase::Done { result, .. } => Some(result),
                _ => None,
            })
            .collect();
        if results.contains(&Outcome::Failure) {
            Outcome::Failure
        } else if results.contains(&Outcome::Cancelled) {
            Outcome::Cancelled
        } else if results.iter().all(|r| *r == Outcome::Skipped) {
            // Also when there are no instances at all.
            Outcome::Skipped
        } else {
            Outcome::Success
        }
    }

    /// The job's outputs; for a matrix, the instance that finished last
    /// wins where several set one output (as on GitHub).
    fn outputs(&self) -> IndexMap<String, String> {
        let mut finished: Vec<(Option<Instant>, &IndexMap<String, String>)> = self
            .instances
            .iter()
            .flatten()
            .filter_map(|i| match &i.phase {
                Phase::Done { outputs, times, .. } => Some((times.map(|(_, e)| e), outputs)),
                _ => None,
            })
            .collect();
        finished.sort_by_key(|(end, _)| *end);
        let mut merged = IndexMap::new();
        for (_, outputs) in finished {
            merged.extend(outputs.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        merged
    }
}

/// Runs the workflow of `spec`. Events go to `sink`; `cancel` stops the run.
pub fn run(spec: &RunSpec, sink: &dyn EventSink, cancel: &CancelToken) -> RunReport {
    let started = Instant::now();
    let event_path = spec.temp_root.join("event.json");
    let mut masker = Masker::new();
    for value in spec.secrets.values() {
        masker.add(value);
    }
    let shared = Shared {
        spec,
        sink,
        masker: RwLock::new(masker),
        cancel: cancel.clone(),
        event_path,
        processes_ready: std::sync::OnceLock::new(),
        snapshot_source: std::sync::OnceLock::new(),
        cleanups: std::sync::Mutex::new(Vec::new()),
        artifacts: std::sync::Mutex::new(IndexMap::new()),
        github: Value::from_json(&spec.plan.github),
        inputs: Value::from_json(&spec.plan.inputs),
        quarantine: std::sync::OnceLock::new(),
        tree: std::sync::OnceLock::new(),
    };
    let mut nodes = build_nodes(spec);
    shared.emit(Event::RunStarted {
        version: crate::events::EVENT_FORMAT_VERSION,
        run: spec.run_number,
        workflow: spec.workflow.name.clone(),
        workflow_path: spec.workflow_path.clone(),
        event: spec.plan.event.clone(),
        git_ref: spec.plan.git_ref.clone(),
        sha: spec.plan.sha.clone(),
        jobs: job_infos(&nodes),
        at: now(),
    });
    crate::actions::prefetch(&shared);

    let (tx, rx) = channel::<(usize, usize, JobReport, Instant, Instant)>();
    // Job instances go to worker threads that take one after another: a
    // thread per job cost more than a cached job itself.
    let (work_tx, work_rx) = channel::<(usize, usize, JobAssignment, CancelToken)>();
    let work_rx = Mutex::new(work_rx);
    let mut cached_steps = (0u64, 0u64);
    // The scopes of calls of reusable workflows, by caller instance key.
    let mut scopes: HashMap<JobKey, CallScope> = HashMap::new();
    std::thread::scope(|scope| {
        // Dropped when the loop ends, which lets idle workers finish.
        let work_tx = work_tx;
        let mut workers = 0usize;
        let mut running = 0usize;
        let mut saw_cancel = false;
        let cached_steps = &mut cached_steps;
        loop {
            if !saw_cancel && shared.cancel.is_cancelled() {
                saw_cancel = true;
                stop_waiting_for_environments(&shared, &mut nodes);
                // Jobs decided before the cancel but not started yet are
                // decided again: only `if: always()` / `cancelled()` ones run.
                for node in &mut nodes {
                    let waiting = node
                        .instances
                        .iter()
                        .flatten()
                        .any(|i| matches!(i.phase, Phase::Pending));
                    if waiting {
                        node.decided = false;
                        for instance in node.instances.iter_mut().flatten() {
                            if matches!(instance.phase, Phase::Pending) {
                                instance.phase = Phase::Blocked;
                            }
                        }
                    }
                }
            }
            decide_ready_jobs(&shared, &mut nodes, &mut scopes);
            // Start what may start, in workflow order.
            for n in 0..nodes.len() {
                let pending = nodes[n]
                    .instances
                    .iter()
                    .flatten()
                    .any(|i| matches!(i.phase, Phase::Pending));
                if !pending {
                    continue;
                }
                let limit = nodes[n].max_parallel.unwrap_or(usize::MAX);
                let origin = nodes[n].origin.clone();
                let job = nodes[n].job;
                let call_scope = nodes[n].called_by.as_ref().and_then(|k| scopes.get(k));
                let scope_inputs =
                    call_scope.map_or_else(|| shared.inputs.to_json(), |s| s.inputs.to_json());
                let scope_secrets = call_scope.map(|s| s.secrets.clone());
                let needs = needs_context(&nodes_needs_snapshot(&nodes, n)).to_json();
                let upstream = upstream_keys(&nodes, n);
                let Some(instances) = nodes[n].instances.as_mut() else {
                    continue;
                };
                let mut job_running = instances
                    .iter()
                    .filter(|i| matches!(i.phase, Phase::Running))
                    .count();
                for (i, instance) in instances.iter_mut().enumerate() {
                    if !matches!(instance.phase, Phase::Pending) {
                        continue;
                    }
                    let contexts = || {
                        group_contexts(
                            &shared,
                            &scope_inputs,
                            &needs,
                            &instance.matrix,
                            &instance.strategy,
                        )
                    };
                    match job_groups::gate(
                        &shared,
                        job,
                        &instance.key,
                        &mut instance.group,
                        contexts,
                    ) {
                        Gate::Start => {}
                        Gate::Wait => continue,
                        Gate::Replaced(reason) => {
                            conclude_unstarted(&shared, instance, Outcome::Cancelled, reason);
                            continue;
                        }
                        Gate::Failed(message) => {
                            conclude_unstarted(&shared, instance, Outcome::Failure, message);
                            continue;
                        }
                    }
                    let waiter = Waiter {
                        job,
                        key: &instance.key,
                        name: &instance.name,
                    };
                    match environment_gate::gate(
                        &shared,
                        &waiter,
                        &mut instance.environment,
                        contexts,
                    ) {
                        EnvironmentGate::Start => {}
                        EnvironmentGate::Wait => continue,
                        EnvironmentGate::Failed(message) => {
                            conclude_unstarted(&shared, instance, Outcome::Failure, message);
                            continue;
                        }
                        EnvironmentGate::Cancelled(reason) => {
                            conclude_unstarted(&shared, instance, Outcome::Cancelled, reason);
                            continue;
                        }
                    }
                    if running >= spec.max_parallel_jobs.max(1) || job_running >= limit {
                        break;
                    }
                    instance.phase = Phase::Running;
                    running += 1;
                    job_running += 1;
                    shared.emit(Event::JobStarted {
                        job: instance.key.clone(),
                        name: instance.name.clone(),
                        at: now(),
                    });
                    if let Some(environment) = instance.environment.cleared() {
                        shared.emit(Event::DeploymentStarted {
                            job: instance.key.clone(),
                            environment: environment.to_string(),
                            at: now(),
                        });
                    }
                    let work = JobAssignment {
                        version: ASSIGNMENT_FORMAT_VERSION,
                        run_id: spec.run_id.clone(),
                        key: instance.key.clone(),
                        origin: origin.clone(),
                        inputs: scope_inputs.clone(),
                        secrets: scope_secrets.clone(),
                        matrix: instance.matrix.to_json(),
                        strategy: instance.strategy.to_json(),
                        needs: needs.clone(),
                        upstream_keys: upstream.clone(),
                    };
                    // Each worker runs one instance at a time, so as
                    // many workers as running instances means none waits.
                    if running > workers {
                        workers += 1;
                        let tx = tx.clone();
                        let shared = &shared;
                        let work_rx = &work_rx;
                        scope.spawn(move || job_worker(shared, work_rx, &tx));
                    }
                    if work_tx.send((n, i, work, instance.cancel.clone())).is_err() {
                        // Cannot happen while workers live; never hang.
                        running -= 1;
                    }
                }
            }
            watch_group_members(&shared, &mut nodes);
            if running == 0 && nodes.iter().all(Node::done) {
                break;
            }
            if running == 0 && !progress_possible(&nodes) {
                // Everything left waits on something that can never finish;
                // cannot happen with a validated graph, but never hang.
                for node in &mut nodes {
                    for instance in node.instances.iter_mut().flatten() {
                        if !matches!(instance.phase, Phase::Done { .. }) {
                            instance.phase = done(
                                Outcome::Skipped,
                                Some("its needs could not be resolved".into()),
                            );
                        }
                    }
                    node.decided = true;
                }
                break;
            }
            match rx.recv_timeout(Duration::from_millis(100)) {
                Ok((n, i, report, begun, ended)) => {
                    running -= 1;
                    cached_steps.0 += report.cached_steps.0;
                    cached_steps.1 += report.cached_steps.1;
                    finish_instance(&shared, &mut nodes, n, i, report, begun, ended);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
        }
    });

    // Finished jobs' directories are removed in the background; the run
    // is over once they are gone.
    let cleanups = shared
        .cleanups
        .lock()
        .map(|mut list| std::mem::take(&mut *list))
        .unwrap_or_default();
    for cleanup in cleanups {
        let _ = cleanup.join();
    }
    let duration = started.elapsed();
    let critical_path = critical_path(&nodes);
    let summaries = summaries(&nodes);
    let result = run_result(&summaries, cancel);
    shared.emit(Event::RunFinished {
        result,
        duration_ms: duration.as_millis() as u64,
        critical_path: critical_path.clone(),
        at: now(),
    });
    let _ = std::fs::remove_dir_all(&spec.temp_root);
    RunReport {
        result,
        jobs: summaries,
        duration,
        critical_path,
        cached_steps,
    }
}

/// A worker thread: runs the job instances it is handed, one at a time,
/// reporting each, until the scheduler stops handing them out.
fn job_worker(
    shared: &Shared,
    work: &Mutex<Receiver<(usize, usize, JobAssignment, CancelToken)>>,
    reports: &Sender<(usize, usize, JobReport, Instant, Instant)>,
) {
    loop {
        let next = work.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok((n, i, assignment, own_cancel)) = next else {
            return;
        };
        let begun = Instant::now();
        // A bug in one job must not hang the run waiting for a report
        // that never comes.
        let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_job(shared, &assignment, &own_cancel)
        }))
        .unwrap_or_else(|_| JobReport {
            result: Outcome::Failure,
            outputs: IndexMap::new(),
            cache_keys: Vec::new(),
            cached_steps: (0, 0),
            environment_url: None,
        });
        if reports.send((n, i, report, begun, Instant::now())).is_err() {
            return;
        }
    }
}

fn build_nodes(spec: &RunSpec) -> Vec<Node<'_>> {
    // `--job` names jobs of the run's own workflow; a called job comes
    // with its outermost caller.
    let selected = |planned: &sluice_plan::PlannedJob| {
        let top = planned
            .origin
            .calls
            .first()
            .map_or(planned.id.as_str(), |(caller, _)| caller.as_str());
        spec.selected_jobs.as_ref().is_none_or(|s| s.contains(top))
    };
    let mut nodes = Vec::new();
    for planned in &spec.plan.jobs {
        if !selected(planned) {
            continue;
        }
        let Some((workflow, job)) = planned.origin.resolve(&spec.workflow) else {
            continue;
        };
        let call = match &job.body {
            JobBody::Call(call) => call.callee.as_ref().map(|callee| (&**call, callee)),
            JobBody::Steps(_) => None,
        };
        let instances = if planned.matrix_at_run_time.is_some() {
            None
        } else {
            let total = planned.instances.len();
            Some(
                planned
                    .instances
                    .iter()
                    .enumerate()
                    .map(|(i, inst)| Instance {
                        key: sluice_plan::plan::instance_key(
                            &planned.id,
                            i,
                            total,
                            job.strategy.is_some(),
                        ),
                        name: inst.name.clone(),
                        matrix: Value::from_json(&inst.matrix),
                        strategy: sluice_plan::plan::strategy_context(
                            planned.fail_fast,
                            planned.max_parallel,
                            i,
                            total,
                        ),
                        phase: Phase::Blocked,
                        cancel: CancelToken::new(),
                        group: None,
                        environment: EnvironmentState::default(),
                    })
                    .collect(),
            )
        };
        nodes.push(Node {
            id: planned.id.clone(),
            origin: planned.origin.clone(),
            job,
            workflow,
            needs: planned.needs.clone(),
            context_needs: planned.context_needs.clone(),
            called_by: planned.called_by.clone(),
            call,
            instances,
            decided: false,
            fail_fast: planned.fail_fast,
            max_parallel: planned.max_parallel.map(|m| m as usize),
        });
    }
    nodes
}

fn job_infos(nodes: &[Node]) -> Vec<JobInfo> {
    let mut infos = Vec::new();
    for node in nodes {
        let needs: Vec<JobKey> = node
            .needs
            .iter()
            .filter_map(|need| nodes.iter().find(|n| n.id.eq_ignore_ascii_case(need)))
            .flat_map(|n| match &n.instances {
                Some(instances) => instances.iter().map(|i| i.key.clone()).collect(),
                None => vec![n.id.clone()],
            })
            .collect();
        // A job whose matrix is known only during the run is announced
        // with `JobAdded` once it is.
        if let Some(instances) = &node.instances {
            infos.extend(instances.iter().map(|i| JobInfo {
                job: i.key.clone(),
                id: node.id.to_string(),
                name: i.name.clone(),
                needs: needs.clone(),
            }));
        }
    }
    infos
}

/// The results and outputs of the jobs `nodes[n]` needs, by id.
/// The results and outputs of the jobs node `n` sees as `needs`, by the
/// ids it knows them by.
fn nodes_needs_snapshot(
    nodes: &[Node],
    n: usize,
) -> IndexMap<String, (Outcome, IndexMap<String, String>)> {
    nodes[n]
        .context_needs
        .iter()
        .filter_map(|(key, local)| {
            let x = nodes.iter().find(|x| x.id.eq_ignore_ascii_case(key))?;
            Some((local.clone(), (x.result(), x.outputs())))
        })
        .collect()
}

fn needs_context(needs: &IndexMap<String, (Outcome, IndexMap<String, String>)>) -> Value {
    Value::Object(
        needs
            .iter()
            .map(|(id, (result, outputs))| {
                let mut entry = IndexMap::new();
                entry.insert("result".to_string(), Value::String(result.as_str().into()));
                entry.insert("outputs".to_string(), string_object(outputs));
                (id.clone(), Value::Object(entry))
            })
            .collect(),
    )
}

/// Concludes an instance with its success in an earlier run (a re-run of
/// the failed jobs does not run the others again).
fn reuse(shared: &Shared, instance: &mut Instance, reused: &crate::run_spec::ReusedJob) {
    shared.system_line(
        &instance.key,
        None,
        &format!("not run again: it succeeded in run #{}", reused.run_number),
    );
    shared.emit(Event::JobFinished {
        job: instance.key.clone(),
        name: instance.name.clone(),
        result: Outcome::Success,
        duration_ms: 0,
        outputs: reused.outputs.clone(),
        at: now(),
    });
    instance.phase = Phase::Done {
        result: Outcome::Success,
        outputs: reused.outputs.clone(),
        times: None,
        reason: None,
        cache_keys: Vec::new(),
    };
}

/// The contexts a job's `concurrency` is evaluated with.
fn group_contexts(
    shared: &Shared,
    inputs: &serde_json::Value,
    needs: &serde_json::Value,
    matrix: &Value,
    strategy: &Value,
) -> IndexMap<String, Value> {
    IndexMap::from([
        ("github".to_string(), shared.github.clone()),
        ("inputs".to_string(), Value::from_json(inputs)),
        ("vars".to_string(), string_object(&shared.spec.vars)),
        ("needs".to_string(), Value::from_json(needs)),
        ("matrix".to_string(), matrix.clone()),
        ("strategy".to_string(), strategy.clone()),
    ])
}

/// Ends an instance that will not start (its concurrency group decided).
fn conclude_unstarted(shared: &Shared, instance: &mut Instance, result: Outcome, reason: String) {
    let level = if result == Outcome::Failure {
        LogLevel::Error
    } else {
        LogLevel::Notice
    };
    shared.system_message(&instance.key, None, level, &reason);
    shared.emit(Event::JobFinished {
        job: instance.key.clone(),
        name: instance.name.clone(),
        result,
        duration_ms: 0,
        outputs: IndexMap::new(),
        at: now(),
    });
    job_groups::leave(shared, &instance.key, &mut instance.group);
    instance.phase = done(result, Some(reason));
}

/// A cancelled run stops waiting for approvals: its waiting jobs end
/// cancelled at once (a job that never started deploys nothing, so not
/// even `if: always()` brings it back).
fn stop_waiting_for_environments(shared: &Shared, nodes: &mut [Node]) {
    for instance in nodes
        .iter_mut()
        .flat_map(|n| n.instances.iter_mut().flatten())
    {
        let Some(environment) = instance.environment.holding().map(str::to_string) else {
            continue;
        };
        if matches!(instance.phase, Phase::Pending) {
            let reason =
                format!("the run was cancelled while the job waited to deploy to {environment}");
            conclude_unstarted(shared, instance, Outcome::Cancelled, reason);
        }
    }
}

/// Running members of concurrency groups stop when a newer job asks.
fn watch_group_members(shared: &Shared, nodes: &mut [Node]) {
    for instance in nodes
        .iter_mut()
        .flat_map(|n| n.instances.iter_mut().flatten())
    {
        if matches!(instance.phase, Phase::Running) && instance.group.is_some() {
            job_groups::watch_running(shared, &instance.key, &mut instance.group, &instance.cancel);
        }
    }
}

fn done(result: Outcome, reason: Option<String>) -> Phase {
    Phase::Done {
        result,
        outputs: IndexMap::new(),
        times: None,
        reason,
        cache_keys: Vec::new(),
    }
}

/// The step-cache keys of the jobs `nodes[n]` needs, by job id.
fn upstream_keys(nodes: &[Node], n: usize) -> IndexMap<JobKey, Vec<String>> {
    nodes[n]
        .needs
        .iter()
        .filter_map(|need| nodes.iter().find(|x| x.id.eq_ignore_ascii_case(need)))
        .map(|x| {
            let keys = x
                .instances
                .iter()
                .flatten()
                .flat_map(|i| match &i.phase {
                    Phase::Done { cache_keys, .. } => cache_keys.clone(),
                    _ => Vec::new(),
                })
                .collect();
            (x.id.clone(), keys)
        })
        .collect()
}

/// Decides every job whose needs have all finished: evaluates its `if`,
/// expands a run-time matrix when the job will run, and makes each
/// instance pending or skipped (an instance whose `runs-on` names another
/// operating system is skipped on its own).
fn decide_ready_jobs(shared: &Shared, nodes: &mut [Node], scopes: &mut HashMap<JobKey, CallScope>) {
    let spec = shared.spec;
    let cancelled = shared.cancel.level() != CancelLevel::None;
    for n in 0..nodes.len() {
        if nodes[n].decided {
            continue;
        }
        let needs_done = nodes[n].needs.iter().all(|need| {
            nodes
                .iter()
                .find(|x| x.id.eq_ignore_ascii_case(need))
                .is_none_or(Node::done)
        });
        if !needs_done {
            continue;
        }
        if nodes[n].call.is_some() {
            finish_caller(shared, nodes, n, scopes);
            continue;
        }
        // A called job: the call decides first (its `if`, its inputs).
        let scope = nodes[n]
            .called_by
            .clone()
            .map(|caller| ensure_scope(shared, nodes, scopes, &caller));
        let needs = nodes_needs_snapshot(nodes, n);
        let ancestors_failed = ancestors(nodes, n)
            .iter()
            .any(|&a| matches!(nodes[a].result(), Outcome::Failure | Outcome::Cancelled));
        let mut contexts = IndexMap::new();
        contexts.insert("github".to_string(), shared.github.clone());
        contexts.insert(
            "inputs".to_string(),
            scope
                .as_ref()
                .map_or_else(|| shared.inputs.clone(), |s| s.inputs.clone()),
        );
        contexts.insert("vars".to_string(), string_object(&spec.vars));
        contexts.insert("needs".to_string(), needs_context(&needs));
        let host = RunHost {
            contexts: &contexts,
            status: Status::Job {
                needs: needs
                    .iter()
                    .map(|(k, (r, _))| (k.to_ascii_lowercase(), *r))
                    .collect(),
                ancestors_failed,
                cancelled,
            },
            workspace: &spec.workspace,
        };
        let node = &mut nodes[n];
        node.decided = true;
        let condition = &node.job.condition;
        let forced = scope.as_ref().and_then(|s| {
            s.failed
                .clone()
                .map(|reason| (Outcome::Failure, reason))
                .or_else(|| s.skipped.clone().map(|reason| (Outcome::Skipped, reason)))
        });
        let verdict = if forced.is_some() {
            forced
        } else {
            match host.condition(&condition.expression) {
                Ok(true) => None,
                Ok(false) => Some((
                    Outcome::Skipped,
                    match &condition.written {
                        Some(written) => format!("if: {} was false", written.value.trim()),
                        None if cancelled => "the run was cancelled".to_string(),
                        None => {
                            let failed: Vec<&str> = needs
                                .iter()
                                .filter(|(_, (r, _))| *r != Outcome::Success)
                                .map(|(k, _)| k.as_str())
                                .collect();
                            format!("needed job(s) did not succeed: {}", failed.join(", "))
                        }
                    },
                )),
                Err(message) => Some((Outcome::Failure, format!("if: {message}"))),
            }
        };
        if node.instances.is_none() {
            // A matrix known only now is expanded only for a job that runs.
            node.instances = Some(match &verdict {
                Some(_) => vec![placeholder(shared, node)],
                None => expand_at_run_time(shared, node, &host),
            });
        }
        let already_running = node
            .instances
            .iter()
            .flatten()
            .any(|i| matches!(i.phase, Phase::Running | Phase::Done { .. }));
        let runs_on = node.job.runs_on.as_ref();
        for instance in node.instances.iter_mut().flatten() {
            if !matches!(instance.phase, Phase::Blocked) {
                continue;
            }
            let verdict = verdict.clone().or_else(|| {
                other_os(runs_on, &contexts, instance).map(|reason| (Outcome::Skipped, reason))
            });
            match verdict {
                None => match spec.reused.get(&instance.key) {
                    Some(reused) => reuse(shared, instance, reused),
                    None => instance.phase = Phase::Pending,
                },
                Some((Outcome::Failure, reason)) => {
                    let reason = shared.mask(&reason);
                    shared.system_message(&instance.key, None, LogLevel::Error, &reason);
                    shared.emit(Event::JobFinished {
                        job: instance.key.clone(),
                        name: instance.name.clone(),
                        result: Outcome::Failure,
                        duration_ms: 0,
                        outputs: IndexMap::new(),
                        at: now(),
                    });
                    instance.phase = done(Outcome::Failure, Some(reason));
                }
                Some((_, reason)) => {
                    let reason = shared.mask(&reason);
                    // Siblings already ran: the rest is cancelled, not skipped.
                    let result = if already_running && cancelled {
                        Outcome::Cancelled
                    } else {
                        Outcome::Skipped
                    };
                    shared.emit(Event::JobSkipped {
                        job: instance.key.clone(),
                        name: instance.name.clone(),
                        reason: reason.clone(),
                        at: now(),
                    });
                    instance.phase = done(result, Some(reason));
                }
            }
        }
    }
}

/// The scope of the call made by caller instance `key`, made the first
/// time one of its jobs is decided (after the caller's own needs, which
/// the called workflow's first jobs wait for).
fn ensure_scope(
    shared: &Shared,
    nodes: &[Node],
    scopes: &mut HashMap<JobKey, CallScope>,
    key: &JobKey,
) -> CallScope {
    if let Some(scope) = scopes.get(key) {
        return scope.clone();
    }
    let found = nodes.iter().enumerate().find_map(|(c, node)| {
        let instance = node.instances.iter().flatten().find(|i| i.key == *key)?;
        Some((c, node, instance))
    });
    let Some((c, caller, instance)) = found else {
        return CallScope {
            skipped: None,
            failed: Some(format!("the call {key} is not part of this run")),
            inputs: Value::Null,
            secrets: IndexMap::new(),
        };
    };
    let parent = caller
        .called_by
        .clone()
        .map(|outer| ensure_scope(shared, nodes, scopes, &outer));
    let Some((call, callee)) = caller.call else {
        return CallScope {
            skipped: None,
            failed: Some(format!("{key} calls no workflow")),
            inputs: Value::Null,
            secrets: IndexMap::new(),
        };
    };
    let needs = nodes_needs_snapshot(nodes, c);
    let mut contexts = IndexMap::new();
    contexts.insert("github".to_string(), shared.github.clone());
    contexts.insert(
        "inputs".to_string(),
        parent
            .as_ref()
            .map_or_else(|| shared.inputs.clone(), |p| p.inputs.clone()),
    );
    contexts.insert("vars".to_string(), string_object(&shared.spec.vars));
    contexts.insert("needs".to_string(), needs_context(&needs));
    contexts.insert("matrix".to_string(), instance.matrix.clone());
    contexts.insert("strategy".to_string(), instance.strategy.clone());
    let state = CallerState {
        job: caller.job,
        call,
        callee,
        contexts,
        needs: needs.iter().map(|(k, (r, _))| (k.clone(), *r)).collect(),
        ancestors_failed: needs
            .values()
            .any(|(r, _)| matches!(r, Outcome::Failure | Outcome::Cancelled)),
        cancelled: shared.cancel.level() != CancelLevel::None,
        parent: parent.as_ref(),
        run_secrets: &shared.spec.secrets,
        workspace: &shared.spec.workspace,
    };
    let scope = make_scope(&state);
    scopes.insert(key.clone(), scope.clone());
    scope
}

/// Completes a caller whose called jobs are all done: each instance gets
/// the call's result and outputs.
fn finish_caller(
    shared: &Shared,
    nodes: &mut [Node],
    c: usize,
    scopes: &mut HashMap<JobKey, CallScope>,
) {
    let keys: Vec<JobKey> = nodes[c]
        .instances
        .iter()
        .flatten()
        .map(|i| i.key.clone())
        .collect();
    let Some((_, callee)) = nodes[c].call else {
        return;
    };
    let mut contexts = IndexMap::new();
    contexts.insert("github".to_string(), shared.github.clone());
    contexts.insert("vars".to_string(), string_object(&shared.spec.vars));
    let mut finished = Vec::new();
    for key in keys {
        let scope = ensure_scope(shared, nodes, scopes, &key);
        let called: Vec<&Node> = nodes
            .iter()
            .filter(|node| node.called_by.as_ref() == Some(&key))
            .collect();
        let results: Vec<CalledJob> = called
            .iter()
            .map(|node| CalledJob {
                id: node.id.job_id().to_string(),
                result: node.result(),
                outputs: node.outputs(),
            })
            .collect();
        let times = called
            .iter()
            .flat_map(|node| node.instances.iter().flatten())
            .filter_map(|i| match i.phase {
                Phase::Done { times, .. } => times,
                _ => None,
            })
            .fold(
                None,
                |span: Option<(Instant, Instant)>, (b, e)| match span {
                    None => Some((b, e)),
                    Some((b0, e0)) => Some((b0.min(b), e0.max(e))),
                },
            );
        let (result, outputs, reason) =
            finish_call(callee, &scope, &results, &contexts, &shared.spec.workspace);
        finished.push((key, result, outputs, reason, times));
    }
    let node = &mut nodes[c];
    node.decided = true;
    for (key, result, outputs, reason, times) in finished {
        let Some(instance) = node.instances.iter_mut().flatten().find(|i| i.key == key) else {
            continue;
        };
        match (&reason, result) {
            (Some(reason), Outcome::Skipped) => shared.emit(Event::JobSkipped {
                job: key.clone(),
                name: instance.name.clone(),
                reason: shared.mask(reason),
                at: now(),
            }),
            _ => {
                if let Some(reason) = &reason {
                    shared.system_message(&key, None, LogLevel::Error, reason);
                }
                shared.emit(Event::JobFinished {
                    job: key.clone(),
                    name: instance.name.clone(),
                    result,
                    duration_ms: times.map_or(0, |(b, e)| e.duration_since(b).as_millis() as u64),
                    outputs: outputs.clone(),
                    at: now(),
                });
            }
        }
        instance.phase = Phase::Done {
            result,
            outputs,
            times,
            reason,
            cache_keys: Vec::new(),
        };
    }
}

/// The one instance that stands for a job whose matrix was never expanded
/// (it was skipped or failed before), announced so views and history see it.
fn placeholder(shared: &Shared, node: &Node) -> Instance {
    shared.emit(Event::JobAdded {
        info: JobInfo {
            job: node.id.clone(),
            id: node.id.to_string(),
            name: node.id.to_string(),
            needs: node.needs.clone(),
        },
        at: now(),
    });
    Instance {
        key: node.id.clone(),
        name: node.id.to_string(),
        matrix: Value::Object(IndexMap::new()),
        strategy: Value::Null,
        phase: Phase::Blocked,
        cancel: CancelToken::new(),
        group: None,
        environment: EnvironmentState::default(),
    }
}

/// `runs-on` naming another operating system for this instance (evaluated
/// with its `matrix`): the instance is skipped.
fn other_os(
    runs_on: Option<&sluice_workflow::Token>,
    contexts: &IndexMap<String, Value>,
    instance: &Instance,
) -> Option<String> {
    let token = runs_on?;
    let mut contexts = contexts.clone();
    contexts.insert("matrix".into(), instance.matrix.clone());
    contexts.insert("strategy".into(), instance.strategy.clone());
    let host = RunHost {
        contexts: &contexts,
        status: Status::Step {
            failed: false,
            cancelled: false,
        },
        workspace: std::path::Path::new("."),
    };
    let value = host.evaluate(token).ok()?;
    let labels: Vec<String> = match value {
        Value::String(s) => vec![s],
        Value::Array(items) => items
            .iter()
            .map(|v| v.to_display_string().into_owned())
            .collect(),
        Value::Object(map) => match map.get("labels") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| v.to_display_string().into_owned())
                .collect(),
            Some(other) => vec![other.to_display_string().into_owned()],
            None => Vec::new(),
        },
        _ => Vec::new(),
    };
    let foreign = labels.iter().find(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("windows") || l.starts_with("macos")
    })?;
    Some(format!(
        "runs-on '{foreign}' names another operating system; this machine runs Linux"
    ))
}

fn expand_at_run_time(shared: &Shared, node: &Node, host: &RunHost) -> Vec<Instance> {
    let Some(token) = node.job.strategy.as_ref().and_then(|s| s.matrix.as_ref()) else {
        return vec![placeholder(shared, node)];
    };
    let expanded = host
        .evaluate(token)
        .and_then(|value| {
            sluice_plan::plan::matrix_definition(&node.id, &value).map_err(|e| e.to_string())
        })
        .and_then(|definition| {
            sluice_plan::matrix::expand_matrix(&definition).map_err(|e| e.to_string())
        });
    match expanded {
        Ok(instances) => {
            let total = instances.len();
            instances
                .into_iter()
                .enumerate()
                .map(|(i, instance)| {
                    let key = sluice_plan::plan::instance_key(&node.id, i, total, true);
                    // The values may come from other jobs' outputs.
                    let name = shared.mask(&instance.display_name(&node.id));
                    shared.emit(Event::JobAdded {
                        info: JobInfo {
                            job: key.clone(),
                            id: node.id.to_string(),
                            name: name.clone(),
                            needs: node.needs.clone(),
                        },
                        at: now(),
                    });
                    Instance {
                        key,
                        name,
                        matrix: Value::Object(instance.matrix),
                        strategy: sluice_plan::plan::strategy_context(
                            node.fail_fast,
                            node.max_parallel.map(|m| m as u64),
                            i,
                            total,
                        ),
                        phase: Phase::Blocked,
                        cancel: CancelToken::new(),
                        group: None,
                        environment: EnvironmentState::default(),
                    }
                })
                .collect()
        }
        Err(message) => {
            let mut instance = placeholder(shared, node);
            let reason = shared.mask(&format!("the matrix could not be expanded: {message}"));
            shared.system_message(
                &instance.key,
                None,
                LogLevel::Error,
                &format!(
                    "{}: strategy.matrix: {}",
                    node.workflow.source.name,
                    shared.mask(&message)
                ),
            );
            shared.emit(Event::JobFinished {
                job: instance.key.clone(),
                name: instance.name.clone(),
                result: Outcome::Failure,
                duration_ms: 0,
                outputs: IndexMap::new(),
                at: now(),
            });
            instance.phase = done(Outcome::Failure, Some(reason));
            vec![instance]
        }
    }
}

fn finish_instance(
    shared: &Shared,
    nodes: &mut [Node],
    n: usize,
    i: usize,
    report: JobReport,
    begun: Instant,
    ended: Instant,
) {
    let node = &mut nodes[n];
    let fail_fast = node.fail_fast && node.job.strategy.is_some();
    let Some(instances) = node.instances.as_mut() else {
        return;
    };
    // As on GitHub, an output that carries a secret is not passed on.
    let mut outputs = IndexMap::new();
    for (name, value) in report.outputs {
        if shared.has_secret(&value) {
            shared.system_message(
                &instances[i].key,
                None,
                LogLevel::Warning,
                &format!("output '{name}' is not passed on because it may contain a secret"),
            );
        } else {
            outputs.insert(name, value);
        }
    }
    let instance = &mut instances[i];
    job_groups::leave(shared, &instance.key, &mut instance.group);
    if let Some(environment) = instance.environment.cleared() {
        shared.emit(Event::DeploymentFinished {
            job: instance.key.clone(),
            environment: environment.to_string(),
            url: report.environment_url.as_ref().map(|url| shared.mask(url)),
            result: report.result,
            at: now(),
        });
    }
    shared.emit(Event::JobFinished {
        job: instance.key.clone(),
        name: instance.name.clone(),
        result: report.result,
        duration_ms: ended.duration_since(begun).as_millis() as u64,
        outputs: outputs.clone(),
        at: now(),
    });
    instance.phase = Phase::Done {
        result: report.result,
        outputs,
        times: Some((begun, ended)),
        reason: None,
        cache_keys: report.cache_keys,
    };
    if report.result == Outcome::Failure && fail_fast {
        for sibling in instances.iter_mut() {
            match sibling.phase {
                Phase::Running => sibling.cancel.escalate(CancelLevel::Graceful),
                Phase::Pending | Phase::Blocked => {
                    let reason =
                        "cancelled by fail-fast: another instance of the matrix failed".to_string();
                    shared.emit(Event::JobSkipped {
                        job: sibling.key.clone(),
                        name: sibling.name.clone(),
                        reason: reason.clone(),
                        at: now(),
                    });
                    sibling.phase = done(Outcome::Cancelled, Some(reason));
                }
                Phase::Done { .. } => {}
            }
        }
    }
}

fn ancestors(nodes: &[Node], n: usize) -> Vec<usize> {
    let mut seen = HashSet::new();
    let mut stack = vec![n];
    while let Some(x) = stack.pop() {
        for need in &nodes[x].needs {
            if let Some(i) = nodes.iter().position(|y| y.id.eq_ignore_ascii_case(need))
                && seen.insert(i)
            {
                stack.push(i);
            }
        }
    }
    seen.into_iter().collect()
}

fn progress_possible(nodes: &[Node]) -> bool {
    nodes.iter().any(|node| {
        !node.decided
            && node.needs.iter().all(|need| {
                nodes
                    .iter()
                    .find(|x| x.id.eq_ignore_ascii_case(need))
                    .is_none_or(Node::done)
            })
    }) || nodes
        .iter()
        .flat_map(|n| n.instances.iter().flatten())
        .any(|i| matches!(i.phase, Phase::Pending))
}

/// The chain of instances that bounded the run: from the last to finish,
/// back through whichever needed instance finished last before it started.
fn critical_path(nodes: &[Node]) -> Vec<JobKey> {
    let timed: Vec<(usize, &Instance, Instant, Instant)> = nodes
        .iter()
        .enumerate()
        .flat_map(|(n, node)| {
            node.instances
                .iter()
                .flatten()
                .filter_map(move |i| match i.phase {
                    Phase::Done {
                        times: Some((b, e)),
                        ..
                    } => Some((n, i, b, e)),
                    _ => None,
                })
        })
        .collect();
    let Some(mut current) = timed.iter().max_by_key(|(_, _, _, e)| *e) else {
        return Vec::new();
    };
    let mut path = vec![current.1.key.clone()];
    loop {
        let (n, _, begun, _) = *current;
        let predecessor = timed
            .iter()
            .filter(|(m, _, _, e)| {
                nodes[n]
                    .needs
                    .iter()
                    .any(|need| nodes[*m].id.eq_ignore_ascii_case(need))
                    && *e <= begun + Duration::from_millis(5)
            })
            .max_by_key(|(_, _, _, e)| *e);
        match predecessor {
            Some(p) => {
                path.push(p.1.key.clone());
                current = p;
            }
            None => break,
        }
    }
    path.reverse();
    path
}

fn summaries(nodes: &[Node]) -> Vec<JobSummary> {
    nodes
        .iter()
        .flat_map(|node| node.instances.iter().flatten())
        .map(|i| match &i.phase {
            Phase::Done {
                result,
                times,
                reason,
                ..
            } => JobSummary {
                key: i.key.clone(),
                name: i.name.clone(),
                result: *result,
                duration: times.map(|(b, e)| e.duration_since(b)),
                reason: reason.clone(),
            },
            _ => JobSummary {
                key: i.key.clone(),
                name: i.name.clone(),
                result: Outcome::Cancelled,
                duration: None,
                reason: Some("did not run".into()),
            },
        })
        .collect()
}

fn run_result(jobs: &[JobSummary], cancel: &CancelToken) -> Outcome {
    if jobs.iter().any(|j| j.result == Outcome::Failure) {
        Outcome::Failure
    } else if cancel.is_cancelled() || jobs.iter().any(|j| j.result == Outcome::Cancelled) {
        Outcome::Cancelled
    } else {
        Outcome::Success
    }
}
