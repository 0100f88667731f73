//! The binary's view of the run history: where it lives and which
//! repository's runs to show.

use std::path::Path;

use anyhow::{Context, Result};
use sluice_exec::events::now;
use sluice_plan::Plan;
use sluice_store::{NewRun, Recorder};
use sluice_workflow::Workflow;

pub struct History {
    store: sluice_store::History,
    /// The key runs are numbered under: the repository root's canonical path.
    repository: String,
}

impl History {
    pub fn open(state_dir: &Path, root: &Path) -> Result<History> {
        let store = sluice_store::History::open(state_dir)
            .with_context(|| format!("cannot open the run history in {}", state_dir.display()))?;
        let repository = root
            .canonicalize()
            .unwrap_or_else(|_| root.to_path_buf())
            .display()
            .to_string();
        Ok(History { store, repository })
    }

    /// Runs of this repository that were cut off and are now marked interrupted.
    pub fn recovered(&self) -> Vec<u64> {
        self.store
            .recovered_on_open()
            .iter()
            .filter(|r| r.repository == self.repository)
            .map(|r| r.number)
            .collect()
    }

    pub fn start_run(&self, workflow: &Workflow, plan: &Plan) -> Result<RunRecorder> {
        let recorder = self
            .store
            .start_run(NewRun {
                repository: self.repository.clone(),
                workflow: workflow.name.clone(),
                workflow_path: plan.workflow.path.clone(),
                event: plan.event.clone(),
                git_ref: plan.git_ref.clone(),
                sha: plan.sha.clone(),
                started_at: now(),
            })
            .context("cannot record the run in the history")?;
        Ok(RunRecorder { recorder })
    }

    pub fn store(&self) -> &sluice_store::History {
        &self.store
    }

    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// A RUN argument: a number, `last`, or `#12`.
    pub fn resolve_run(&self, text: &str) -> Result<u64> {
        let text = text.trim().trim_start_matches('#');
        if text.eq_ignore_ascii_case("last") || text.eq_ignore_ascii_case("latest") {
            return self
                .store
                .latest_run_number(&self.repository)?
                .context("this repository has no runs yet; start one with `sluice run`");
        }
        text.parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .with_context(|| format!("'{text}' is not a run number (see `sluice runs`)"))
    }
}

/// Records one run; an event sink for the executor.
pub struct RunRecorder {
    recorder: Recorder,
}

impl RunRecorder {
    pub fn run_number(&self) -> u64 {
        self.recorder.number()
    }

    /// Closes the run's record with the CLI's exit code.
    pub fn finish(self, exit_code: i32) {
        if let Some(e) = self.recorder.take_error() {
            eprintln!("warning: part of the run could not be recorded: {e}");
        }
        if let Err(e) = self.recorder.finish(Some(exit_code)) {
            eprintln!("warning: the run's record could not be completed: {e}");
        }
    }
}

impl sluice_exec::EventSink for RunRecorder {
    fn emit(&self, event: &sluice_exec::Event) {
        self.recorder.emit(event);
    }
}
