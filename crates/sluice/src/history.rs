//! The binary's view of the run history: where it lives and which
//! repository's runs to show.

use std::path::Path;

use anyhow::{Context, Result};
use sluice_exec::CancelToken;
use sluice_exec::events::now;
use sluice_plan::Plan;
use sluice_store::{NewRun, QueueRequest, Recorder, StartDecision, Starter};

use crate::{run_control, terminal_text};
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

    /// The history in `state_dir`, of the repository it names `repository`
    /// (a step's `sluice` reads the history of the run it belongs to).
    pub fn open_named(state_dir: &Path, repository: String) -> Result<History> {
        let store = sluice_store::History::open(state_dir)
            .with_context(|| format!("cannot open the run history in {}", state_dir.display()))?;
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

    /// Starts recording a run of `workflow`: at once, or, for a workflow
    /// with `concurrency`, once its group lets it (a Ctrl-C while waiting
    /// cancels it).
    pub fn begin_run(
        &self,
        workflow: &Workflow,
        plan: &Plan,
        interrupts: &CancelToken,
    ) -> Result<Begun> {
        let Some(concurrency) = &plan.concurrency else {
            return self.start_run(workflow, plan).map(Begun::Started);
        };
        let queued = self
            .store
            .enqueue(&QueueRequest {
                repository: self.repository.clone(),
                workflow: workflow.name.clone(),
                workflow_path: plan.workflow.path.clone(),
                event: plan.event.clone(),
                git_ref: plan.git_ref.clone(),
                sha: plan.sha.clone(),
                request: None,
                concurrency: Some(run_control::membership(concurrency)),
                starter: Starter::ThisProcess,
                queued_at: now(),
            })
            .context("cannot queue the run in the history")?;
        let group = terminal_text::inert(&concurrency.group, false);
        for number in &queued.replaced {
            eprintln!(
                "note: run #{number} was waiting in concurrency group `{group}`; run #{} replaces it",
                queued.number
            );
        }
        for number in &queued.cancelling {
            eprintln!(
                "note: run #{number} of concurrency group `{group}` is asked to stop (cancel-in-progress)"
            );
        }
        let mut said_waiting = false;
        loop {
            match self.store.try_start(queued.run_id)? {
                StartDecision::Started => {
                    let recorder = self.store.recorder_for(queued.run_id)?;
                    return Ok(Begun::Started(RunRecorder { recorder }));
                }
                StartDecision::Cancelled => return Ok(Begun::Cancelled(queued.number)),
                StartDecision::Waiting { behind } => {
                    if !said_waiting {
                        said_waiting = true;
                        eprintln!(
                            "run #{} waits for run #{behind} of concurrency group `{group}`",
                            queued.number
                        );
                        self.hint_if_queued_for_a_server(behind);
                    }
                }
            }
            if interrupts.is_cancelled() {
                self.store.request_cancel(&self.repository, queued.number)?;
                return Ok(Begun::Cancelled(queued.number));
            }
            std::thread::sleep(run_control::POLL_INTERVAL);
        }
    }

    /// A run waited for that is itself queued (for a server) moves only
    /// when a server runs: say how to get past it.
    fn hint_if_queued_for_a_server(&self, number: u64) {
        let queued = self
            .store
            .run(&self.repository, number)
            .is_ok_and(|run| run.summary.status == sluice_store::Status::Queued);
        if queued {
            eprintln!(
                "note: run #{number} is queued for `sluice serve`; if no server runs, `sluice cancel {number}` lets this one go"
            );
        }
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

    pub fn into_store(self) -> sluice_store::History {
        self.store
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

/// How beginning a run went.
pub enum Begun {
    Started(RunRecorder),
    /// Its number: it was cancelled while it waited for its group.
    Cancelled(u64),
}

impl RunRecorder {
    pub fn run_number(&self) -> u64 {
        self.recorder.number()
    }

    pub fn run_id(&self) -> i64 {
        self.recorder.run_id()
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
