//! What a run is given, and what all its jobs share while it runs.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{OnceLock, RwLock};
use std::time::Duration;

use indexmap::IndexMap;
use sluice_expr::Value;
use sluice_plan::Plan;
use sluice_workflow::Workflow;

use crate::events::CancelToken;
use crate::events::{Event, EventSink, JobKey, LogLevel, Stream, now};
use crate::mask::Masker;
use crate::reaper::ReaperGuard;

/// Everything a run needs that does not change while it runs.
/// A job's success in an earlier run, taken over by a re-run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReusedJob {
    /// The run it succeeded in.
    pub run_number: u64,
    pub outputs: IndexMap<String, String>,
}

pub struct RunSpec {
    pub workflow: Workflow,
    /// The workflow file, relative to the repository root.
    pub workflow_path: String,
    /// The plan for the event (its `github` context is completed per job).
    pub plan: Plan,
    /// The run's number in the repository's history.
    pub run_number: u64,
    /// A unique id for the run (temporary directories, tracking ids).
    pub run_id: String,
    /// The repository the run is about; jobs run in snapshots of it, or
    /// in it with [`Isolation::InPlace`].
    pub workspace: PathBuf,
    /// Whether each job gets its own copy of the workspace.
    pub isolation: Isolation,
    /// Directories a snapshot never copies when the workspace is not a git
    /// repository (the state directory); in a repository, git's ignore
    /// rules decide.
    pub snapshot_exclude: Vec<PathBuf>,
    /// Where job workspaces are kept between jobs and runs (slots per
    /// repository; see [`crate::workspace`]).
    pub workspaces_dir: PathBuf,
    /// Per-run scratch space; each job gets a directory below it. It must
    /// not exist: it is created private when the first process is about
    /// to start (name it with [`crate::scratch::unpredictable_path`]).
    pub temp_root: PathBuf,
    /// `RUNNER_TOOL_CACHE`.
    pub tool_cache: PathBuf,
    /// `container-engine` from sluice.toml: a socket URL or a client
    /// program; `None` finds one (see [`crate::engine`]).
    pub container_engine: Option<String>,
    /// Container jobs run their steps on the host (`--container host`),
    /// for people who use `container:` only to get a toolchain.
    pub containers_on_host: bool,
    /// Where requested toolchain versions are found or installed.
    pub toolchains: crate::toolchains::Toolchains,
    /// The `secrets` context.
    pub secrets: IndexMap<String, String>,
    /// The `vars` context.
    pub vars: IndexMap<String, String>,
    /// How many jobs may run at once.
    pub max_parallel_jobs: usize,
    /// How long a cancelled step gets between SIGTERM and SIGKILL.
    pub grace: Duration,
    /// When set, only these job ids run (`--job` and what it needs).
    pub selected_jobs: Option<HashSet<String>>,
    /// The environment steps start from (Sluice's own, without its secrets).
    pub base_env: Vec<(String, String)>,
    /// The prefix of every tracking id in this run.
    pub tracking_prefix: String,
    /// The content-addressed cache (step cache and `actions/cache`);
    /// `None` when it could not be opened (steps then run uncached).
    pub cache: Option<std::sync::Arc<sluice_cache::Cache>>,
    /// Keeps the concurrency groups of jobs with `concurrency:` (across
    /// runs); `None` lets such jobs run as if they had none.
    pub job_groups: Option<std::sync::Arc<dyn crate::job_groups::JobGroups>>,
    /// For a re-run of the failed jobs: the jobs that succeeded before,
    /// which conclude with their earlier outputs instead of running.
    pub reused: IndexMap<JobKey, ReusedJob>,
    /// Fetches remote actions and reusable workflows; `None` runs only
    /// local, vendored and native ones.
    pub remote: Option<std::sync::Arc<crate::remote::RemoteStore>>,
    /// Which actions run natively rather than fetched.
    pub native_actions: crate::actions::NativeActions,
    /// Sluice's own executable, to start the watcher that stops the run's
    /// processes if Sluice dies ([`crate::reaper`]); `None` runs without it.
    pub reaper_exe: Option<PathBuf>,
    /// Coverage gates from `sluice.toml`, and the default branch's latest
    /// coverage for `max-drop`.
    pub coverage: CoverageSettings,
    /// How benchmark results are judged, and their history.
    pub perf: PerfSpec,
    /// Where services keep the data their costly setup makes once (see
    /// `services/data_template.rs`); `None` runs the setup every time.
    pub service_templates: Option<PathBuf>,
    /// The protection rules of deployment environments.
    pub environments: crate::environment_rules::Environments,
    /// Where approvals of deployments come from; `None`: a job that needs
    /// one fails.
    pub approvals: Option<std::sync::Arc<dyn crate::environment_gate::ApprovalGate>>,
}

/// The default branch's benchmark history, as the executor asks for it
/// (the binary answers from the store).
pub trait PerfSeries: Send + Sync {
    /// The run values of one metric on the default branch and `testbed`,
    /// oldest first.
    fn series(&self, benchmark: &str, measure: &str, testbed: &sluice_events::Testbed) -> Vec<f64>;
}

#[derive(Clone, Default)]
pub struct PerfSpec {
    pub config: sluice_reports::perf::PerfConfig,
    /// `None`: every result is judged without history (insufficient data).
    pub history: Option<std::sync::Arc<dyn PerfSeries>>,
}

impl CoverageSettings {
    /// The baseline of step `step` of job `job`.
    pub fn baseline_of(&self, job: &str, step: usize) -> Option<f64> {
        self.baselines
            .iter()
            .find(|(j, s, _)| j == job && *s == step)
            .map(|(_, _, percent)| *percent)
    }
}

impl std::fmt::Debug for PerfSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PerfSpec")
            .field("config", &self.config)
            .field("history", &self.history.is_some())
            .finish()
    }
}

/// What the run knows of coverage before it starts.
#[derive(Debug, Clone, Default)]
pub struct CoverageSettings {
    /// `[coverage]` of `sluice.toml`; a step's `coverage-gate` wins key by key.
    pub gate: sluice_reports::coverage::CoverageGate,
    /// What diff coverage is measured against (default: the default branch).
    pub base: Option<String>,
    /// The line coverage (percent) of each step (job key, step index) in
    /// the default branch's latest run that had coverage: a step's
    /// `max-drop` compares it with the same step.
    pub baselines: Vec<(String, usize, f64)>,
}

/// Where a run's jobs run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Each job in its own snapshot of the workspace (the default).
    Snapshot,
    /// Every job in the workspace itself (`--in-place`).
    InPlace,
}

/// What the jobs of a run share.
pub(crate) struct Shared<'a> {
    pub spec: &'a RunSpec,
    pub sink: &'a dyn EventSink,
    pub masker: RwLock<Masker>,
    pub cancel: CancelToken,
    /// The event payload written for `GITHUB_EVENT_PATH`.
    pub event_path: PathBuf,
    /// Set up the first time a process is about to start: a run whose
    /// steps all come from the cache never pays for it.
    pub processes_ready: OnceLock<Result<Option<ReaperGuard>, String>>,
    /// What job snapshots copy, listed when the first job needs it.
    pub snapshot_source: OnceLock<Result<crate::workspace::SnapshotSource, String>>,
    /// Removals of finished jobs' directories, running in the background;
    /// the run waits for them before it ends.
    pub cleanups: std::sync::Mutex<Vec<std::thread::JoinHandle<()>>>,
    /// The run's artifacts so far, by name (`actions/upload-artifact`).
    pub artifacts: std::sync::Mutex<IndexMap<String, crate::actions::RunArtifact>>,
    /// The `github` and `inputs` contexts, converted once for every job.
    pub github: Value,
    pub inputs: Value,
    /// The repository's quarantined tests, read when a report is first
    /// read (or why the file could not be read).
    pub quarantine: OnceLock<Result<sluice_reports::Quarantine, String>>,
    /// The tree the run's tests run on (see [`Shared::clean_tree`]).
    pub tree: OnceLock<Option<String>>,
}

impl Shared<'_> {
    pub fn emit(&self, event: Event) {
        self.sink.emit(&event);
    }

    /// Masks secrets in `text`.
    pub fn mask(&self, text: &str) -> String {
        match self.masker.read() {
            Ok(masker) => masker.mask(text).into_owned(),
            // A poisoned lock means a thread panicked mid-update; masking
            // everything is the only safe answer.
            Err(_) => "***".to_string(),
        }
    }

    /// The tree of the commit the run is for, when the repository is
    /// exactly that commit; asked of git once per run.
    pub fn clean_tree(&self) -> &Option<String> {
        self.tree
            .get_or_init(|| crate::git::commits::clean_tree(&self.spec.workspace))
    }

    /// The quarantine of the repository (`.sluice/quarantine.yml`), or
    /// why the file cannot be read (then nothing is quarantined).
    pub fn quarantine(&self) -> Result<&sluice_reports::Quarantine, &str> {
        self.quarantine
            .get_or_init(|| {
                let path = self.spec.workspace.join(sluice_reports::QUARANTINE_FILE);
                let Ok(text) = std::fs::read_to_string(&path) else {
                    return Ok(sluice_reports::Quarantine::default());
                };
                sluice_reports::Quarantine::parse(&text)
                    .map_err(|e| format!("{}:{e}", sluice_reports::QUARANTINE_FILE))
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// Whether `text` contains a registered secret.
    pub fn has_secret(&self, text: &str) -> bool {
        self.masker.read().map_or(true, |m| m.has_secret(text))
    }

    pub fn add_mask(&self, value: &str) {
        if let Ok(mut masker) = self.masker.write() {
            masker.add(value);
        }
    }

    /// Readies the run for starting processes (once): its private scratch
    /// directory, the event payload file, and the watcher.
    pub fn prepare_for_processes(&self) -> Result<(), String> {
        let ready = self.processes_ready.get_or_init(|| {
            let spec = self.spec;
            // Scripts and command files may contain secrets: only we may
            // read them, and nobody may have prepared the place for us.
            crate::scratch::create_private_dir(&spec.temp_root).map_err(|e| e.to_string())?;
            let payload = spec.plan.github.get("event").cloned().unwrap_or_default();
            crate::scratch::write_new_private_file(
                &self.event_path,
                &serde_json::to_vec_pretty(&payload).unwrap_or_default(),
            )
            .map_err(|e| e.to_string())?;
            Ok(spec
                .reaper_exe
                .as_ref()
                .map(|exe| ReaperGuard::start(exe, &spec.tracking_prefix, &spec.temp_root)))
        });
        ready.as_ref().map(|_| ()).map_err(Clone::clone)
    }

    /// The run's scratch directory, once it was made.
    pub fn scratch_dir(&self) -> Option<&std::path::Path> {
        matches!(self.processes_ready.get(), Some(Ok(_))).then_some(self.spec.temp_root.as_path())
    }

    /// A message from Sluice itself about a job or step, at `level`; its
    /// text starts with the level's word (`error: ...`) for whoever reads
    /// the plain log.
    pub fn system_message(&self, job: &JobKey, step: Option<usize>, level: LogLevel, text: &str) {
        let line = match level {
            LogLevel::Info => text.to_owned(),
            LogLevel::Detail => format!("shell: {text}"),
            LogLevel::Notice => format!("notice: {text}"),
            LogLevel::Warning => format!("warning: {text}"),
            LogLevel::Error => format!("error: {text}"),
        };
        self.emit(Event::Log {
            job: job.clone(),
            step,
            stream: Stream::System,
            line: self.mask(&line),
            level,
            at: now(),
        });
    }

    /// A log line from Sluice itself about a job or step.
    pub fn system_line(&self, job: &JobKey, step: Option<usize>, line: &str) {
        self.emit(Event::Log {
            job: job.clone(),
            step,
            stream: Stream::System,
            line: self.mask(line),
            level: crate::step_output::level_of(Stream::System, line),
            at: now(),
        });
    }
}
