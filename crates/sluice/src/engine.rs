//! What `sluice run` and `sluice serve` share to run one workflow: the
//! executor's run specification from the settings, and the upkeep of
//! the cache afterwards.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use indexmap::IndexMap;
use sluice_exec::events::JobKey;
use sluice_exec::job_groups::JobGroups;
use sluice_exec::remote::RemoteStore;
use sluice_exec::{Isolation, NativeActions, ReusedJob, RunSpec};
use sluice_plan::Plan;
use sluice_workflow::Workflow;

use crate::config::Config;
use crate::secrets;

/// What every run of a command shares.
pub struct EngineSetup<'a> {
    /// Where the run's jobs start from: the repository, or a checkout of
    /// the commit a server runs.
    pub root: &'a Path,
    pub config: &'a Config,
    pub secrets: &'a IndexMap<String, String>,
    pub remote: &'a Arc<RemoteStore>,
    pub cache: Option<&'a Arc<sluice_cache::Cache>>,
    /// Sluice's own executable (it re-runs itself as the watcher).
    pub exe: &'a Path,
    /// Code from outside the team (a fork's pull request): no secrets,
    /// and only a minimal environment.
    pub untrusted: bool,
    /// The repository as the history names it (steps are told, with the
    /// history's directory, for `sluice tests shard`).
    pub repository: &'a str,
}

/// What is particular to one run.
pub struct RunParts {
    pub workflow: Workflow,
    pub plan: Plan,
    pub run_number: u64,
    /// `--job`: these jobs and what they need; `None` for all.
    pub selected_jobs: Option<std::collections::HashSet<String>>,
    pub job_groups: Option<Arc<dyn JobGroups>>,
    pub reused: IndexMap<JobKey, ReusedJob>,
    /// The default branch's latest line coverage per step, in percent
    /// (for `max-drop`).
    pub coverage_baseline: Vec<(String, usize, f64)>,
    /// The default branch's benchmark values, for judging new results.
    pub perf_history: Option<Arc<dyn sluice_exec::PerfSeries>>,
    /// Where approvals of the run's deployments come from.
    pub approvals: Option<Arc<dyn sluice_exec::ApprovalGate>>,
}

pub fn spec(setup: &EngineSetup, run: RunParts) -> Result<RunSpec> {
    let config = setup.config;
    let run_id = sluice_exec::ids::numeric_id();
    let tracking_prefix = format!("sluice_{run_id}");
    let temp_root = sluice_exec::scratch::unpredictable_path(&std::env::temp_dir())?;
    Ok(RunSpec {
        workflow_path: run.plan.workflow.path.clone(),
        workflow: run.workflow,
        plan: run.plan,
        run_number: run.run_number,
        run_id,
        workspace: setup.root.to_path_buf(),
        isolation: if config.in_place {
            Isolation::InPlace
        } else {
            Isolation::Snapshot
        },
        snapshot_exclude: vec![config.state_dir.clone()],
        workspaces_dir: config.cache_dir.join("workspaces"),
        temp_root,
        tool_cache: config.cache_dir.join("tool-cache"),
        container_engine: config.container_engine.clone(),
        containers_on_host: config.containers_on_host,
        toolchains: sluice_exec::toolchains::Toolchains {
            root: config.cache_dir.join("toolchains"),
            home: std::env::var_os("HOME").map(PathBuf::from),
            tool_cache: config.cache_dir.join("tool-cache"),
        },
        secrets: if setup.untrusted {
            IndexMap::new()
        } else {
            setup.secrets.clone()
        },
        vars: config.vars.clone(),
        max_parallel_jobs: config.jobs,
        grace: config.cancel_grace,
        selected_jobs: run.selected_jobs,
        base_env: base_env(setup.untrusted, &config.state_dir, setup.repository),
        tracking_prefix,
        reaper_exe: Some(setup.exe.to_path_buf()),
        coverage: sluice_exec::CoverageSettings {
            gate: config.coverage.gate,
            base: config.coverage.base.clone(),
            baselines: run.coverage_baseline,
        },
        // `SLUICE_SERVICE_TEMPLATES=0` turns them off (to measure without).
        service_templates: (std::env::var("SLUICE_SERVICE_TEMPLATES").as_deref() != Ok("0"))
            .then(|| config.cache_dir.join(SERVICE_TEMPLATES_DIR)),
        perf: sluice_exec::PerfSpec {
            config: config.perf.clone(),
            history: run.perf_history,
        },
        remote: Some(Arc::clone(setup.remote)),
        native_actions: NativeActions::new(
            config.actions.native_default,
            config.actions.native_overrides.clone(),
        ),
        cache: setup.cache.cloned(),
        job_groups: run.job_groups,
        reused: run.reused,
        environments: config.environments.clone(),
        approvals: run.approvals,
    })
}

/// Keeps the cache within its limits after a run; cheap when nothing is due.
pub fn keep_cache_in_bounds(config: &Config, cache: &sluice_cache::Cache) {
    match cache.maybe_prune() {
        // With the store's prune, job workspaces idle past the age limit go.
        Ok(Some(_)) => {
            // Their blobs go with the next prune.
            sluice_exec::remove_expired_artifacts(cache);
            sluice_exec::workspace::remove_idle_workspaces(
                &config.cache_dir.join("workspaces"),
                Some(config.cache_max_age),
            );
            sluice_exec::toolchains::remove_unused_toolchains(
                &config.cache_dir.join("toolchains"),
                config.cache_max_age,
            );
        }
        Ok(None) => {}
        Err(e) => eprintln!("warning: the cache could not be pruned: {e}"),
    }
}

/// Variables of Sluice's own environment that are its credentials, never
/// the steps'.
const SLUICE_CREDENTIALS: [&str; 2] = ["SLUICE_WEBHOOK_SECRET", "SLUICE_TOKEN"];

/// What an untrusted run's steps get of Sluice's environment.
const MINIMAL_ENV: [&str; 8] = [
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TERM", "TMPDIR",
];

/// The environment steps start from: Sluice's own, as a self-hosted runner
/// passes its environment on, minus the secrets handed to Sluice itself
/// and its credentials; for an untrusted run, only the basics.
/// Steps also learn where the run's history is (`RUN_STATE_DIR_VAR`), so
/// that `sluice tests shard` inside a job reads the history of the run
/// that started it, not of the job's copy of the repository.
fn base_env(untrusted: bool, state_dir: &Path, repository: &str) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = std::env::vars()
        .filter(|(k, _)| !k.starts_with(secrets::ENV_PREFIX))
        .filter(|(k, _)| !SLUICE_CREDENTIALS.contains(&k.as_str()))
        .filter(|(k, _)| k != RUN_STATE_DIR_VAR && k != RUN_REPOSITORY_VAR)
        .filter(|(k, _)| !untrusted || MINIMAL_ENV.contains(&k.as_str()) || k.starts_with("LC_"))
        .collect();
    // Code from outside the team is not told where the history is.
    if !untrusted {
        env.push((
            RUN_STATE_DIR_VAR.to_string(),
            state_dir.display().to_string(),
        ));
        env.push((RUN_REPOSITORY_VAR.to_string(), repository.to_string()));
    }
    env
}

/// Where services keep their data templates, under the cache directory.
pub const SERVICE_TEMPLATES_DIR: &str = "service-templates";

/// Where a step finds the history of the run it belongs to.
pub const RUN_STATE_DIR_VAR: &str = "SLUICE_RUN_STATE_DIR";
/// The repository as that history names it.
pub const RUN_REPOSITORY_VAR: &str = "SLUICE_RUN_REPOSITORY";
