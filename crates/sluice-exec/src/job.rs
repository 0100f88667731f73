//! Running one job instance: its environment and contexts, its steps in
//! order with GitHub's status rules, its outputs, and the cleanup of every
//! process it started.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_workflow::Workflow;
use sluice_workflow::{Job, TokenKind};

use crate::assignment::JobAssignment;
use crate::eval_host::{RunHost, Status, string_object};
use crate::events::{CancelLevel, CancelToken};
use crate::events::{JobKey, LogLevel, Outcome};
use crate::process_tree;
use crate::run_spec::{Isolation, Shared};
use crate::step::{StepContext, StepRecord, run_step};
use crate::workspace::{JobWorkspace, SnapshotSource};

/// GitHub's default job timeout.
const DEFAULT_JOB_TIMEOUT: Duration = Duration::from_secs(360 * 60);

/// How a job ended.
#[derive(Debug, Clone)]
pub(crate) struct JobReport {
    /// The conclusion (after `continue-on-error`).
    pub result: Outcome,
    pub outputs: IndexMap<String, String>,
    /// Keys of the job's steps that have `cache:`, for the jobs that need it.
    pub cache_keys: Vec<String>,
    /// Steps with `cache:` that were looked up, and those restored.
    pub cached_steps: (u64, u64),
    /// `environment.url`, evaluated after the steps.
    pub environment_url: Option<String>,
}

/// The job's state while its steps run.
pub(crate) struct JobState {
    pub contexts: IndexMap<String, Value>,
    /// Variables set through `GITHUB_ENV`, in order.
    pub exported_env: IndexMap<String, String>,
    /// Directories added through `GITHUB_PATH`, most recent first.
    pub added_path: Vec<String>,
    /// `env:` of the workflow and job, evaluated.
    pub job_env: IndexMap<String, String>,
    pub failed: bool,
    pub deadline: Instant,
    pub temp: PathBuf,
    pub files_dir: PathBuf,
    /// Where the job's steps run: its snapshot, or the repository itself.
    pub workspace: PathBuf,
    /// `SLUICE_JOB_ID`: unique to this job instance, for namespacing
    /// databases, users and queues.
    pub job_id: String,
    pub tracking_id: String,
    /// A `Cell` so that steps can create the directories while the job's
    /// contexts are borrowed for evaluation.
    pub dirs_ready: std::cell::Cell<bool>,
    /// The job's container, for a `container:` job run in one.
    pub container: Option<crate::job_container::JobContainer>,
    /// Post steps to run when the job ends, in the order registered (run
    /// in reverse): `actions/cache` saves and JavaScript actions' `post`.
    pub posts: Vec<crate::actions::Post>,
    /// `GITHUB_STATE` written by each step (by index), for its post step.
    pub saved_state: IndexMap<usize, Vec<(String, String)>>,
}

impl JobState {
    /// Creates the job's scratch directories the first time they are
    /// needed, inside the run's private scratch directory (made first).
    pub fn ensure_dirs(&self, shared: &Shared) -> Result<(), String> {
        if !self.dirs_ready.get() {
            shared.prepare_for_processes()?;
            for dir in [&self.temp, &self.files_dir] {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            self.dirs_ready.set(true);
        }
        Ok(())
    }
}

/// Runs the job `assignment` names; `own_cancel` stops this instance
/// alone (fail-fast of a matrix).
pub(crate) fn run_job(
    shared: &Shared,
    assignment: &JobAssignment,
    own_cancel: &CancelToken,
) -> JobReport {
    let spec = shared.spec;
    let key = &assignment.key;
    let Some((workflow, job)) = assignment.origin.resolve(&spec.workflow) else {
        // Cannot happen with an assignment this run made; never panic.
        shared.system_message(
            key,
            None,
            LogLevel::Error,
            "the job was not found in the workflow it was assigned from",
        );
        return failed();
    };
    // Created when a step first needs them (see `JobState::ensure_dirs`).
    let job_dir = spec.temp_root.join(sanitize(key));
    let temp = job_dir.join("tmp");
    let files_dir = job_dir.join("file_commands");
    let tracking_id = format!(
        "{}_{}_{}",
        spec.tracking_prefix,
        sanitize(key),
        crate::ids::random_hex(6)
    );
    let cancel_level = || own_cancel.level().max(shared.cancel.level());
    let job_id = format!(
        "r{}_{}_{}",
        spec.run_number,
        sanitize(key).trim_matches('_').to_ascii_lowercase(),
        crate::ids::random_hex(4)
    );
    // Held until the job ends: its slot stays ours while steps run.
    let (workspace, _workspace_slot) = match prepare_workspace(shared, key) {
        Ok(workspace) => workspace,
        Err(message) => {
            shared.system_message(key, None, LogLevel::Error, &message);
            remove_later(shared, job_dir);
            return failed();
        }
    };

    let mut github = shared.github.clone();
    if let Value::Object(object) = &mut github {
        object.insert("job".into(), Value::String(job.id.clone()));
        object.insert("run_id".into(), Value::String(spec.run_id.clone()));
        object.insert(
            "run_number".into(),
            Value::String(spec.run_number.to_string()),
        );
        object.insert(
            "workspace".into(),
            Value::String(workspace.display().to_string()),
        );
    }
    let mut contexts: IndexMap<String, Value> = IndexMap::new();
    contexts.insert("github".into(), github);
    contexts.insert("inputs".into(), Value::from_json(&assignment.inputs));
    contexts.insert("vars".into(), string_object(&spec.vars));
    contexts.insert(
        "secrets".into(),
        secrets_context(assignment.secrets.as_ref().unwrap_or(&spec.secrets)),
    );
    contexts.insert("matrix".into(), Value::from_json(&assignment.matrix));
    contexts.insert("strategy".into(), Value::from_json(&assignment.strategy));
    contexts.insert("needs".into(), Value::from_json(&assignment.needs));
    contexts.insert("runner".into(), runner_context(spec, &temp, &workspace));
    contexts.insert(
        "job".into(),
        job_context("success", &Value::Object(IndexMap::new())),
    );
    contexts.insert("steps".into(), Value::Object(IndexMap::new()));

    // env: the workflow's, then the job's on top; each sees what came before.
    let mut job_env = IndexMap::new();
    for token in [workflow.env.as_ref(), job.env.as_ref()]
        .into_iter()
        .flatten()
    {
        contexts.insert("env".into(), string_object(&job_env));
        let host = RunHost {
            contexts: &contexts,
            status: Status::Step {
                failed: false,
                cancelled: false,
            },
            workspace: &workspace,
        };
        match evaluate_env(&host, token) {
            Ok(values) => job_env.extend(values),
            Err(message) => {
                shared.system_message(key, None, LogLevel::Error, &format!("env: {message}"));
                return failed();
            }
        }
    }
    contexts.insert("env".into(), string_object(&job_env));

    let host = RunHost {
        contexts: &contexts,
        status: Status::Step {
            failed: false,
            cancelled: false,
        },
        workspace: &workspace,
    };
    let timeout = match job.timeout_minutes.as_ref().map(|t| host.evaluate(t)) {
        None => DEFAULT_JOB_TIMEOUT,
        Some(Ok(value)) => minutes(&value).unwrap_or(DEFAULT_JOB_TIMEOUT),
        Some(Err(message)) => {
            shared.system_message(
                key,
                None,
                LogLevel::Error,
                &format!("timeout-minutes: {message}"),
            );
            return failed();
        }
    };
    let continue_on_error = match job.continue_on_error.as_ref().map(|t| host.evaluate(t)) {
        None => false,
        Some(Ok(value)) => value.to_boolean(),
        Some(Err(message)) => {
            shared.system_message(
                key,
                None,
                LogLevel::Error,
                &format!("continue-on-error: {message}"),
            );
            return failed();
        }
    };
    if let Some(problem) = unsupported(job) {
        shared.system_message(key, None, LogLevel::Error, &problem);
        remove_later(shared, job_dir);
        return failed();
    }
    // A container job: its engine and network first (services join it).
    let container_plan = match plan_container(shared, key, job, &host) {
        Ok(plan) => plan,
        Err(message) => {
            shared.system_message(key, None, LogLevel::Error, &message);
            remove_later(shared, job_dir);
            return failed();
        }
    };
    let services = if job.services.is_empty() {
        crate::services::Services::default()
    } else {
        let deadline = Instant::now() + timeout;
        let cancel_or_timeout = || {
            if Instant::now() >= deadline {
                CancelLevel::Immediate
            } else {
                cancel_level()
            }
        };
        let started = shared.prepare_for_processes().and_then(|()| {
            crate::services::start(
                &crate::services::ServiceContext {
                    shared,
                    key,
                    host: &host,
                    job_id: &job_id,
                    cancel: &cancel_or_timeout,
                    network: container_plan.as_ref().map(|p| p.network.as_str()),
                },
                job,
            )
        });
        match started {
            Ok(services) => services,
            Err(message) => {
                shared.system_message(key, None, LogLevel::Error, &message);
                if let Some(plan) = &container_plan {
                    plan.engine.remove_network(&plan.network);
                }
                remove_later(shared, job_dir);
                let mut report = failed();
                if cancel_level() != CancelLevel::None {
                    report.result = Outcome::Cancelled;
                }
                return report;
            }
        }
    };
    let services_context = services.context();
    contexts.insert("job".into(), job_context("success", &services_context));
    let container = match &container_plan {
        None => None,
        Some(plan) => {
            let mounts = [
                workspace.as_path(),
                spec.temp_root.as_path(),
                spec.tool_cache.as_path(),
            ];
            let _ = std::fs::create_dir_all(&spec.tool_cache);
            let started = std::fs::create_dir_all(&job_dir)
                .map_err(|e| e.to_string())
                .and_then(|()| {
                    crate::job_container::JobContainer::start(
                        &plan.engine,
                        &plan.spec,
                        &spec.run_id,
                        &plan.network,
                        &mounts,
                        &job_dir,
                    )
                    .map_err(|e| e.to_string())
                });
            match started {
                Ok(container) => {
                    shared.system_line(
                        key,
                        None,
                        &format!(
                            "container: {} ({}) on network {}",
                            plan.spec.image,
                            &container.id[..container.id.len().min(12)],
                            plan.network
                        ),
                    );
                    Some(container)
                }
                Err(message) => {
                    shared.system_message(
                        key,
                        None,
                        LogLevel::Error,
                        &format!("container {}: {message}", plan.spec.image),
                    );
                    services.stop(shared, key);
                    plan.engine.remove_network(&plan.network);
                    remove_later(shared, job_dir);
                    return failed();
                }
            }
        }
    };

    let mut state = JobState {
        contexts,
        exported_env: IndexMap::new(),
        added_path: Vec::new(),
        job_env,
        failed: false,
        deadline: Instant::now() + timeout,
        temp: temp.clone(),
        files_dir,
        workspace,
        job_id,
        tracking_id: tracking_id.clone(),
        dirs_ready: std::cell::Cell::new(false),
        posts: Vec::new(),
        saved_state: IndexMap::new(),
        container,
    };
    let mut cache_keys = Vec::new();
    let mut cached_steps = (0u64, 0u64);
    let mut timed_out = false;
    let workspace = state.workspace.clone();
    crate::actions::run_pre_steps(
        shared,
        key,
        job,
        workflow,
        &mut state,
        &cancel_level,
        &workspace,
        &assignment.upstream_keys,
    );
    for (index, step) in job.steps().iter().enumerate() {
        if Instant::now() >= state.deadline && !timed_out {
            timed_out = true;
            shared.system_message(
                key,
                None,
                LogLevel::Error,
                &format!("the job exceeded its timeout of {}", human_minutes(timeout)),
            );
        }
        let context = StepContext {
            shared,
            key,
            job,
            workflow,
            step,
            index,
            cancel_level: &cancel_level,
            job_timed_out: timed_out,
            upstream_keys: &assignment.upstream_keys,
            workspace: &workspace,
            nested: None,
        };
        let record: StepRecord = run_step(&context, &mut state);
        if record.conclusion == Outcome::Failure {
            state.failed = true;
        }
        if let Some(key) = &record.cache_key {
            cache_keys.push(key.clone());
            cached_steps.0 += 1;
            cached_steps.1 += u64::from(record.cached);
        }
        if record.timed_out_job {
            timed_out = true;
        }
        if let Some(Value::Object(steps)) = state.contexts.get_mut("steps") {
            steps.insert(step.id.clone(), record.context_value());
        }
        let status = if state.failed { "failure" } else { "success" };
        state
            .contexts
            .insert("job".into(), job_context(status, &services_context));
    }

    run_posts(shared, key, job, workflow, &mut state, &cancel_level);

    // Whatever the job's steps left running (servers, daemons) ends with
    // it, then its services (whose clients are gone by then).
    if state.dirs_ready.get() {
        process_tree::terminate_tree(None, &tracking_id, Duration::from_secs(2));
    }
    // The job container first (its processes end with it), then services,
    // then the network they shared.
    if let Some(container) = &state.container {
        container.engine.remove(&container.id);
    }
    services.stop(shared, key);
    if let Some(plan) = &container_plan {
        plan.engine.remove_network(&plan.network);
    }

    let cancelled = cancel_level() != CancelLevel::None || timed_out;
    let outputs = job_outputs(shared, key, job, &state);
    let environment_url = environment_url(shared, key, job, &state);
    remove_later(shared, job_dir);
    let result = match (state.failed, cancelled) {
        (_, true) if timed_out => Outcome::Failure,
        (_, true) => Outcome::Cancelled,
        (true, false) if continue_on_error => Outcome::Success,
        (true, false) => Outcome::Failure,
        (false, false) => Outcome::Success,
    };
    JobReport {
        result,
        outputs,
        cache_keys,
        cached_steps,
        environment_url,
    }
}

/// The post steps, in reverse order of registration as GitHub runs them:
/// `actions/cache` saves (only if the job succeeded, unless
/// `save-always`) and JavaScript actions' `post` (when their `post-if`
/// holds, `always()` by default).
fn run_posts(
    shared: &Shared,
    key: &JobKey,
    job: &Job,
    workflow: &Workflow,
    state: &mut JobState,
    cancel_level: &dyn Fn() -> CancelLevel,
) {
    let posts: Vec<crate::actions::Post> = state.posts.drain(..).rev().collect();
    let workspace = state.workspace.clone();
    let steps = job.steps();
    for (k, post) in posts.iter().enumerate() {
        let Some(step) = steps.get(post.step()) else {
            continue;
        };
        let index = steps.len() + k;
        let ctx = StepContext {
            shared,
            key,
            job,
            workflow,
            step,
            index,
            cancel_level,
            job_timed_out: false,
            upstream_keys: &IndexMap::new(),
            workspace: &workspace,
            nested: None,
        };
        let started = std::time::Instant::now();
        let Some(run) = post.should_run(&ctx, state) else {
            continue;
        };
        if !run {
            continue;
        }
        let name = match &step.action {
            sluice_workflow::StepAction::Uses { uses, .. } => format!("Post Run {}", uses.value),
            _ => "Post".to_string(),
        };
        shared.emit(crate::events::Event::StepStarted {
            job: key.clone(),
            step: index,
            step_id: format!("post-{}", step.id),
            name,
            at: crate::events::now(),
        });
        let outcome = post.run(&ctx, state);
        if outcome == Outcome::Failure {
            state.failed = true;
        }
        shared.emit(crate::events::Event::StepFinished {
            job: key.clone(),
            step: index,
            outcome,
            conclusion: outcome,
            exit_code: None,
            duration_ms: started.elapsed().as_millis() as u64,
            cached: false,
            at: crate::events::now(),
        });
    }
}

fn failed() -> JobReport {
    JobReport {
        result: Outcome::Failure,
        outputs: IndexMap::new(),
        cache_keys: Vec::new(),
        cached_steps: (0, 0),
        environment_url: None,
    }
}

/// What Sluice cannot do for this job yet, if anything.
fn unsupported(job: &Job) -> Option<String> {
    if let sluice_workflow::JobBody::Call(call) = &job.body {
        // A call whose workflow was read runs as the jobs it adds; only
        // one that could not be read reaches a runner.
        return Some(format!(
            "`uses: {}`: the called workflow could not be read (see the messages above), so its jobs cannot run",
            call.uses.value
        ));
    }
    None
}

/// What a container job needs before its services start: the engine, the
/// evaluated `container:`, and a network of its own.
struct ContainerPlan {
    engine: crate::engine::Engine,
    spec: crate::job_container::ContainerSpec,
    network: String,
}

/// `None` for a job without `container:`, or one whose steps run on the
/// host (`--container host`, said in a warning).
fn plan_container(
    shared: &Shared,
    key: &JobKey,
    job: &Job,
    host: &RunHost,
) -> Result<Option<ContainerPlan>, String> {
    let Some(token) = &job.container else {
        return Ok(None);
    };
    let spec =
        crate::job_container::ContainerSpec::evaluate(token, host).map_err(|e| e.to_string())?;
    if shared.spec.containers_on_host {
        shared.system_message(
            key,
            None,
            LogLevel::Warning,
            &format!(
                "the job's steps run on this host, not in {} (--container host)",
                spec.image
            ),
        );
        return Ok(None);
    }
    let path_var = shared
        .spec
        .base_env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map_or("/usr/local/bin:/usr/bin:/bin", |(_, v)| v.as_str());
    let engine = crate::engine::find(path_var, shared.spec.container_engine.as_deref())
        .ok_or_else(|| format!(
            "the job runs in the container {}, and no container engine answers here (docker or podman, found through DOCKER_HOST, the default sockets, or container-engine in sluice.toml); start one, or run the steps on the host with --container host (or container = \"host\" in sluice.toml)",
            spec.image
        ))?;
    shared.prepare_for_processes()?;
    engine.note_for_watcher(&shared.spec.temp_root);
    let network = crate::job_container::create_network(&engine, &shared.spec.run_id)
        .map_err(|e| e.to_string())?;
    Ok(Some(ContainerPlan {
        engine,
        spec,
        network,
    }))
}

/// The job's workspace: its own copy of the repository, brought up to
/// date with the run's snapshot, or the repository itself when the run is
/// in place.
fn prepare_workspace(
    shared: &Shared,
    key: &JobKey,
) -> Result<(PathBuf, Option<JobWorkspace>), String> {
    let spec = shared.spec;
    if spec.isolation == Isolation::InPlace {
        return Ok((spec.workspace.clone(), None));
    }
    let source = shared
        .snapshot_source
        .get_or_init(|| SnapshotSource::list(&spec.workspace, &spec.snapshot_exclude))
        .as_ref()
        .map_err(|e| format!("cannot list the files of the job's workspace: {e}"))?;
    // As on GitHub, the workspace directory is named after the repository.
    let name = spec
        .workspace
        .file_name()
        .map_or_else(|| "workspace".into(), |n| n.to_os_string());
    let started = Instant::now();
    let (workspace, stats) = JobWorkspace::prepare(source, &spec.workspaces_dir, &name)
        .map_err(|e| format!("cannot prepare the job's workspace: {e}"))?;
    shared.system_line(
        key,
        None,
        &format!(
            "workspace: {} files, {} copied ({:.1} MB), {} removed, in {} ms",
            stats.files,
            stats.copied,
            stats.bytes as f64 / 1e6,
            stats.removed,
            started.elapsed().as_millis()
        ),
    );
    Ok((workspace.path.clone(), Some(workspace)))
}

/// Removes a finished job's directory (its snapshot and scratch files) in
/// the background; the run waits for it before it ends.
fn remove_later(shared: &Shared, job_dir: PathBuf) {
    if !job_dir.exists() {
        return;
    }
    let handle = std::thread::spawn(move || {
        let _ = std::fs::remove_dir_all(&job_dir);
    });
    if let Ok(mut cleanups) = shared.cleanups.lock() {
        cleanups.push(handle);
    }
}

/// Evaluates an `env:` token to name/value pairs.
pub(crate) fn evaluate_env(
    host: &RunHost,
    token: &sluice_workflow::Token,
) -> Result<Vec<(String, String)>, String> {
    match &token.kind {
        // Keys written as expressions, or `${{ insert }}`, need the whole
        // mapping evaluated; plain ones are taken entry by entry.
        TokenKind::Mapping(entries) if !entries.iter().any(|(k, _, _)| k.contains("${{")) => {
            entries
                .iter()
                .map(|(name, _, value)| Ok((name.clone(), host.string(value)?)))
                .collect()
        }
        _ => match host.evaluate(token)? {
            Value::Object(map) => Ok(map
                .into_iter()
                .map(|(k, v)| (k, v.to_display_string().into_owned()))
                .collect()),
            Value::Null => Ok(Vec::new()),
            other => Err(format!("env must be a mapping, not {}", other.kind_name())),
        },
    }
}

fn job_outputs(
    shared: &Shared,
    key: &JobKey,
    job: &Job,
    state: &JobState,
) -> IndexMap<String, String> {
    let host = RunHost {
        contexts: &state.contexts,
        status: Status::Step {
            failed: state.failed,
            cancelled: false,
        },
        workspace: &state.workspace,
    };
    let mut outputs = IndexMap::new();
    for (name, token) in &job.outputs {
        match host.string(token) {
            Ok(value) => {
                outputs.insert(name.clone(), value);
            }
            Err(message) => shared.system_message(
                key,
                None,
                LogLevel::Warning,
                &format!("output '{name}': {message}"),
            ),
        }
    }
    outputs
}

/// `environment.url`, with the contexts of the job's end (so `steps.*`
/// outputs), except `secrets`, which GitHub does not offer there.
fn environment_url(shared: &Shared, key: &JobKey, job: &Job, state: &JobState) -> Option<String> {
    let token = job.environment.as_ref()?;
    let mut contexts = state.contexts.clone();
    contexts.shift_remove("secrets");
    let host = RunHost {
        contexts: &contexts,
        status: Status::Step {
            failed: state.failed,
            cancelled: false,
        },
        workspace: &state.workspace,
    };
    match crate::environment_token::evaluate_url(token, &host) {
        Ok(url) => url,
        Err(message) => {
            shared.system_message(
                key,
                None,
                LogLevel::Warning,
                &format!("environment.url: {message}"),
            );
            None
        }
    }
}

fn secrets_context(secrets: &IndexMap<String, String>) -> Value {
    let mut map: IndexMap<String, Value> = secrets
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    map.entry("GITHUB_TOKEN".into())
        .or_insert(Value::String(String::new()));
    Value::Object(map)
}

fn runner_context(spec: &crate::run_spec::RunSpec, temp: &Path, workspace: &Path) -> Value {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "X64",
        "aarch64" => "ARM64",
        other => other,
    };
    let pairs = [
        ("name", "sluice".to_string()),
        ("os", "Linux".to_string()),
        ("arch", arch.to_string()),
        ("environment", "self-hosted".to_string()),
        ("temp", temp.display().to_string()),
        ("tool_cache", spec.tool_cache.display().to_string()),
        ("workspace", workspace.display().to_string()),
        ("debug", String::new()),
    ];
    Value::Object(
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_string(), Value::String(v)))
            .collect(),
    )
}

fn job_context(status: &str, services: &Value) -> Value {
    let mut map = IndexMap::new();
    map.insert("status".to_string(), Value::String(status.into()));
    map.insert("services".to_string(), services.clone());
    map.insert("container".to_string(), Value::Object(IndexMap::new()));
    Value::Object(map)
}

/// A `timeout-minutes` value as a duration (fractions allowed).
pub(crate) fn minutes(value: &Value) -> Option<Duration> {
    let n = value.to_number();
    (n.is_finite() && n > 0.0).then(|| Duration::from_secs_f64((n * 60.0).min(1e9)))
}

pub(crate) fn human_minutes(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 60.0 {
        format!("{secs:.1}s")
    } else {
        format!("{:.1} minutes", secs / 60.0)
    }
}

/// A job key as a file name: `test[2]` -> `test_2_`.
pub(crate) fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
