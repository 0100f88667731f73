//! `sluice serve`: the server of `sluice-server`, with this repository's
//! engine behind it. [`LocalPipelines`] plans triggers against the
//! repository (fetching from its own remote) and runs queued runs at
//! their commits with the same engine, cache and history as `sluice run`.

mod execution;
mod planning;
mod trigger_event;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::{Context, Result};
use indexmap::IndexMap;
use sluice_exec::git::{self, ReadOptions, commits};
use sluice_exec::remote::RemoteStore;
use sluice_exec::{CancelToken, EventSink, Outcome};
use sluice_server::{
    PipelineError, Pipelines, PlannedRun, RunRequest, Schedule, ServerConfig, Trigger,
};
use sluice_store::ClaimedRun;

use crate::cli::ServeArgs;
use crate::config::{self, Config, Overrides};
use crate::exit::ExitStatus;
use crate::history::History;
use crate::secrets;

pub fn serve(cwd: &Path, args: &ServeArgs) -> Result<ExitStatus> {
    let start = args.repo.as_deref().unwrap_or(cwd);
    let root = git::find_root(start)?;
    let config = Config::load(
        &root,
        &Overrides {
            jobs: args.jobs.map(usize::from),
            vars: args.vars.clone(),
            ..Overrides::default()
        },
    )?;
    config::ensure_ignored(&config.state_dir)?;
    let listen: SocketAddr = args.listen.parse().with_context(|| {
        format!(
            "--listen {}: not an address such as 127.0.0.1:8080",
            args.listen
        )
    })?;
    let secrets = secrets::collect(&args.secrets, &args.secret_files)?;
    let cache = crate::commands::run::open_cache(&config)?;
    let remote = Arc::new(crate::commands::run::remote_store(
        &config,
        &secrets,
        cache.clone(),
    ));
    let history = History::open(&config.state_dir, &root)?;
    let repository = history.repository().to_string();
    remove_orphan_checkouts(&config.cache_dir.join("checkouts"));
    let settings = config.server.clone();
    let pipelines = LocalPipelines {
        root: root.clone(),
        history: Mutex::new(history.store().reopen()?),
        config,
        secrets,
        cache,
        remote,
        exe: std::env::current_exe().context("cannot find Sluice's own executable")?,
        repository: repository.clone(),
    };
    let server = ServerConfig {
        listen,
        state_dir: pipelines.config.state_dir.clone(),
        repository,
        webhook_secret: settings.webhook_secret,
        public_reads: settings.public_reads,
        workers: args.workers.map_or(settings.workers, usize::from),
        queue_limit: settings.queue_limit,
        max_body_bytes: settings.max_body_bytes,
        requeue_interrupted: settings.requeue_interrupted,
        notify: settings.notify,
        public_url: settings.public_url,
        fork_pull_requests: settings.fork_pull_requests,
    };
    if server.webhook_secret.is_none() {
        eprintln!(
            "note: GitHub webhooks are refused until a secret is set (SLUICE_WEBHOOK_SECRET or webhook-secret in sluice.toml)"
        );
    }
    sluice_server::serve(server, Arc::new(pipelines), history.into_store())?;
    Ok(ExitStatus::Success)
}

/// Removes the checkouts of servers that are gone (killed before they
/// could clean up): each is named `run-PID-…` after its server.
fn remove_orphan_checkouts(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("run-"))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        let alive = pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists());
        if pid.is_some() && !alive {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// The engine behind the server, for one repository.
pub struct LocalPipelines {
    /// The server's clone of the repository.
    root: PathBuf,
    config: Config,
    secrets: IndexMap<String, String>,
    cache: Arc<sluice_cache::Cache>,
    remote: Arc<RemoteStore>,
    exe: PathBuf,
    /// The history key of the repository.
    repository: String,
    /// A handle from which runs get their own.
    history: Mutex<sluice_store::History>,
}

impl LocalPipelines {
    /// A private, unpredictable directory for one checkout, removed when
    /// dropped; inside the cache directory, which is this user's alone.
    fn scratch_dir(&self) -> Result<tempfile::TempDir, PipelineError> {
        let parent = self.config.cache_dir.join("checkouts");
        // The server's pid in the name tells a later server what is left
        // over from one that died (see `remove_orphan_checkouts`).
        let prefix = format!("run-{}-", std::process::id());
        std::fs::create_dir_all(&parent)
            .and_then(|()| tempfile::Builder::new().prefix(&prefix).tempdir_in(&parent))
            .map_err(|e| {
                PipelineError::Failed(format!(
                    "cannot make a directory in {}: {e}",
                    parent.display()
                ))
            })
    }

    fn history(&self) -> Result<sluice_store::History, sluice_store::StoreError> {
        self.history
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .reopen()
    }

    /// The configured remote, when the clone has it (a server on the
    /// repository it is given commits in has none to fetch from).
    fn remote_name(&self) -> Option<&str> {
        let name = self.config.server.remote.as_str();
        git::git(&self.root, &["remote", "get-url", "--", name])
            .ok()
            .map(|_| name)
    }

    /// Makes sure commit `sha` (of `git_ref`) is here.
    fn ensure_commit(&self, git_ref: &str, sha: &str) -> Result<(), PipelineError> {
        if commits::has_commit(&self.root, sha) {
            return Ok(());
        }
        let Some(remote) = self.remote_name() else {
            return Err(PipelineError::Rejected(format!(
                "commit {sha} is not in {} and it has no remote `{}` to fetch it from",
                self.root.display(),
                self.config.server.remote
            )));
        };
        commits::ensure_commit(&self.root, remote, git_ref, sha)
            .map_err(|e| PipelineError::Rejected(format!("cannot fetch {git_ref} at {sha}: {e}")))
    }

    /// The commit `git_ref` points at on the remote (fetched), or here
    /// when there is no remote.
    fn fetch_ref(&self, git_ref: &str) -> Result<String, PipelineError> {
        let local = git_ref
            .replace("refs/heads/", "refs/sluice/heads/")
            .replace("refs/tags/", "refs/sluice/tags/");
        if let Some(remote) = self.remote_name() {
            commits::fetch(&self.root, remote, &[&format!("+{git_ref}:{local}")])
                .map_err(|e| PipelineError::Rejected(format!("cannot fetch {git_ref}: {e}")))?;
            return commits::resolve(&self.root, &local)
                .ok_or_else(|| PipelineError::Rejected(format!("{git_ref} names no commit")));
        }
        commits::resolve(&self.root, git_ref)
            .ok_or_else(|| PipelineError::Rejected(format!("{git_ref} names no commit here")))
    }

    /// A pull request's base branch, fetched: the name to compare with.
    fn fetch_branch(&self, branch: &str) -> Result<String, PipelineError> {
        self.fetch_ref(&format!("refs/heads/{branch}"))
    }

    fn default_branch(&self) -> Result<String, PipelineError> {
        git::read_state(&self.root, &ReadOptions::default())
            .map(|state| state.default_branch)
            .map_err(|e| PipelineError::Failed(format!("cannot read the repository: {e}")))
    }
}

impl Pipelines for LocalPipelines {
    fn plan(&self, trigger: &Trigger) -> Result<Vec<PlannedRun>, PipelineError> {
        planning::plan(self, trigger)
    }

    fn execute(
        &self,
        run: &ClaimedRun,
        request: &RunRequest,
        sink: &dyn EventSink,
        cancel: &CancelToken,
    ) -> Outcome {
        execution::execute(self, run, request, sink, cancel)
    }

    fn schedules(&self) -> Result<Vec<Schedule>, PipelineError> {
        planning::schedules(self)
    }

    fn export_artifact(
        &self,
        number: u64,
        name: &str,
        out: &mut dyn std::io::Write,
    ) -> Result<(), PipelineError> {
        let history = self
            .history()
            .map_err(|e| PipelineError::Failed(e.to_string()))?;
        let dir = self.scratch_dir()?;
        crate::commands::artifacts::restore(
            &history,
            &self.repository,
            number,
            name,
            &self.cache,
            dir.path(),
        )
        .map_err(|e| PipelineError::Rejected(format!("{e:#}")))?;
        sluice_exec::archive::tar_directory(dir.path(), out)
            .map_err(|e| PipelineError::Failed(format!("cannot pack the artifact: {e}")))
    }
}
