//! Running a queued run: its commit checked out into a private
//! directory, its workflow read there, planned again from its request,
//! and run by the executor with the run's record as its sink.

use std::sync::Arc;

use indexmap::IndexMap;
use sluice_exec::events::JobKey;
use sluice_exec::git::commits;
use sluice_exec::{CancelToken, EventSink, Outcome, ReusedJob};
use sluice_plan::{PlanRequest, build_plan};
use sluice_server::{RunRequest, fail_before_start};
use sluice_store::{ClaimedRun, Status};
use sluice_workflow::ParseOptions;

use super::LocalPipelines;
use super::trigger_event;
use crate::engine::{self, EngineSetup, RunParts};
use crate::run_control::HistoryJobGroups;
use crate::workflows;

pub(super) fn execute(
    p: &LocalPipelines,
    run: &ClaimedRun,
    request: &RunRequest,
    sink: &dyn EventSink,
    cancel: &CancelToken,
) -> Outcome {
    match run_at_commit(p, run, request, sink, cancel) {
        Ok(outcome) => outcome,
        Err(message) => {
            fail_before_start(sink, run, &message);
            Outcome::Failure
        }
    }
}

fn run_at_commit(
    p: &LocalPipelines,
    run: &ClaimedRun,
    request: &RunRequest,
    sink: &dyn EventSink,
    cancel: &CancelToken,
) -> Result<Outcome, String> {
    let checkout = p.scratch_dir().map_err(|e| e.to_string())?;
    let branch = request.git_ref.strip_prefix("refs/heads/");
    commits::checkout(&p.root, &request.sha, branch, checkout.path())
        .map_err(|e| format!("cannot check out {}: {e}", request.sha))?;
    let parsed = workflows::load(
        checkout.path(),
        std::path::Path::new(&request.workflow_path),
        &ParseOptions::default(),
        Some(&p.remote),
    )
    .map_err(|e| format!("{e:#}"))?;
    if parsed.has_errors() {
        let errors: Vec<String> = parsed
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| d.message.clone())
            .collect();
        return Err(format!(
            "{} has errors: {}",
            request.workflow_path,
            errors.join("; ")
        ));
    }
    let workflow = parsed
        .workflow
        .ok_or_else(|| format!("{} holds no workflow", request.workflow_path))?;
    let repo =
        trigger_event::repository(&p.root, request, checkout.path()).map_err(|e| e.to_string())?;
    let event = trigger_event::event(request, &repo);
    let plan = build_plan(&PlanRequest {
        workflow: &workflow,
        workflow_path: &request.workflow_path,
        event: &event,
        repo: &repo,
        vars: &p.config.vars,
    })
    .map_err(|e| format!("{}: {e}", request.workflow_path))?;
    let history = p.history().map_err(|e| e.to_string())?;
    let reused = match request.rerun {
        Some(rerun) if rerun.failed_only => successes_of(&history, &p.repository, rerun.of)?,
        _ => IndexMap::new(),
    };
    let coverage_baseline =
        crate::coverage_settings::default_branch_baseline(checkout.path(), &history, &p.repository);
    let perf_history: Option<Arc<dyn sluice_exec::PerfSeries>> =
        history.reopen().ok().map(|store| {
            crate::perf_settings::HistoryPerfSeries::new(
                store,
                p.repository.clone(),
                crate::perf_settings::default_ref(checkout.path()),
            ) as Arc<dyn sluice_exec::PerfSeries>
        });
    let approvals: Option<Arc<dyn sluice_exec::ApprovalGate>> =
        history.reopen().ok().map(|store| {
            Arc::new(crate::approval_gate::HistoryApprovals::new(
                store, run.run_id,
            )) as Arc<dyn sluice_exec::ApprovalGate>
        });
    let job_groups = Arc::new(HistoryJobGroups::new(
        history,
        run.run_id,
        p.repository.clone(),
    ));
    let spec = engine::spec(
        &EngineSetup {
            root: checkout.path(),
            config: &p.config,
            secrets: &p.secrets,
            remote: &p.remote,
            cache: Some(&p.cache),
            exe: &p.exe,
            untrusted: request.untrusted,
            repository: &p.repository,
        },
        RunParts {
            workflow,
            plan,
            run_number: run.number,
            selected_jobs: None,
            job_groups: Some(job_groups),
            reused,
            coverage_baseline,
            perf_history,
            approvals,
        },
    )
    .map_err(|e| format!("{e:#}"))?;
    let report = sluice_exec::run(&spec, sink, cancel);
    engine::keep_cache_in_bounds(&p.config, &p.cache);
    // The commit's ref goes with the last run that needed it.
    if let Ok(history) = p.history()
        && history
            .others_at_commit(&p.repository, &request.sha, run.number)
            .is_ok_and(|others| others == 0)
    {
        commits::forget_commit(&p.root, &request.sha);
    }
    Ok(report.result)
}

/// The jobs that succeeded in run `number`, with their outputs.
fn successes_of(
    history: &sluice_store::History,
    repository: &str,
    number: u64,
) -> Result<IndexMap<JobKey, ReusedJob>, String> {
    let earlier = history
        .run(repository, number)
        .map_err(|e| format!("cannot read run #{number} to re-run it: {e}"))?;
    Ok(earlier
        .jobs
        .into_iter()
        .filter(|job| job.status == Status::Success)
        .map(|job| {
            (
                job.key,
                ReusedJob {
                    run_number: number,
                    outputs: job.outputs,
                },
            )
        })
        .collect())
}
