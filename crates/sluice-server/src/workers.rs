//! Worker threads: each takes the oldest queued run whose concurrency
//! group is free, runs it through the engine while recording it, and
//! then tells whoever asked to be told.

use std::sync::Arc;
use std::time::Duration;

use sluice_events::{Event, EventSink, Outcome, Stream};
use sluice_store::{CancelWatch, ClaimedRun};

use crate::request::RunRequest;
use crate::state::Shared;

/// How long an idle worker sleeps before looking again (it is woken
/// sooner when a run is queued here; runs queued by another process are
/// seen at the latest after this).
const IDLE_WAIT: Duration = Duration::from_secs(1);

/// How often an idle worker looks for runs whose process died (another
/// server's, a `sluice run`'s): they would hold their groups for ever.
const RECOVERY_INTERVAL: Duration = Duration::from_secs(5);

pub(crate) fn start(
    shared: &Arc<Shared>,
) -> Result<Vec<std::thread::JoinHandle<()>>, std::io::Error> {
    (0..shared.config.workers.max(1))
        .map(|index| {
            let shared = Arc::clone(shared);
            std::thread::Builder::new()
                .name(format!("sluice-worker-{index}"))
                .spawn(move || work(&shared))
        })
        .collect()
}

fn work(shared: &Arc<Shared>) {
    let mut last_recovery = std::time::Instant::now();
    while !shared.shutdown.is_cancelled() {
        let seen = shared.work.current();
        let claimed = shared
            .histories
            .with(|history| Ok(history.claim_next(&shared.config.repository)?));
        match claimed {
            Ok(Some(run)) if shared.shutdown.is_cancelled() => {
                // Taken as the server stops: back in the queue for later.
                release(shared, &run);
            }
            Ok(Some(run)) => run_one(shared, &run),
            Ok(None) => {
                if last_recovery.elapsed() >= RECOVERY_INTERVAL {
                    last_recovery = std::time::Instant::now();
                    let _ = shared
                        .histories
                        .with(|history| Ok(history.recover_interrupted()?));
                }
                shared.work.wait_after(seen, IDLE_WAIT)
            }
            Err(error) => {
                eprintln!("sluice serve: cannot take a queued run: {error}");
                shared.work.wait_after(seen, IDLE_WAIT);
            }
        }
    }
}

fn run_one(shared: &Arc<Shared>, run: &ClaimedRun) {
    let recorder = match shared
        .histories
        .with(|history| Ok(history.recorder_for(run.run_id)?))
    {
        Ok(recorder) => recorder,
        Err(error) => {
            eprintln!("sluice serve: cannot record run #{}: {error}", run.number);
            // It must not hold its group while this live server owns it.
            let _ = shared
                .histories
                .with(|history| Ok(history.abandon(run.run_id)?));
            return;
        }
    };
    let cancel = shared.shutdown.child();
    shared.running_tokens().insert(run.number, cancel.clone());
    let _watch = shared
        .histories
        .dedicated()
        .ok()
        .map(|history| CancelWatch::start(history, run.run_id, cancel.clone()));
    let outcome = match read_request(run) {
        Ok(request) => {
            let executed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                shared.pipelines.execute(run, &request, &recorder, &cancel)
            }));
            executed.unwrap_or_else(|_| {
                fail_before_start(
                    &recorder,
                    run,
                    "the engine failed unexpectedly (a bug); the run stopped",
                );
                Outcome::Failure
            })
        }
        Err(message) => {
            fail_before_start(&recorder, run, &message);
            Outcome::Failure
        }
    };
    shared.running_tokens().remove(&run.number);
    let code = match outcome {
        Outcome::Success | Outcome::Skipped => 0,
        _ => 1,
    };
    if let Err(error) = recorder.finish(Some(code)) {
        eprintln!(
            "sluice serve: the record of run #{} is incomplete: {error}",
            run.number
        );
    }
    crate::notify::after_run(shared, run);
}

/// Puts a run taken as the server stops back in the queue.
fn release(shared: &Shared, run: &ClaimedRun) {
    let _ = shared
        .histories
        .with(|history| Ok(history.release(run.run_id)?));
}

fn read_request(run: &ClaimedRun) -> Result<RunRequest, String> {
    let text = run
        .request
        .as_deref()
        .ok_or("the run was queued without what a server needs to start it")?;
    serde_json::from_str(text).map_err(|e| format!("the run's request cannot be read: {e}"))
}

/// Ends a run that could not start (its commit could not be had, its
/// workflow not read), saying why in its log.
pub fn fail_before_start(recorder: &dyn EventSink, run: &ClaimedRun, message: &str) {
    let at = sluice_store::timestamp::now_ms();
    recorder.emit(&Event::RunStarted {
        version: sluice_events::EVENT_FORMAT_VERSION,
        run: run.number,
        workflow: run.workflow.clone(),
        workflow_path: run.workflow_path.clone(),
        event: run.event.clone(),
        git_ref: run.git_ref.clone(),
        sha: run.sha.clone(),
        jobs: vec![sluice_events::JobInfo {
            job: sluice_events::JobKey::new("setup", None),
            id: "setup".into(),
            name: "Set up the run".into(),
            needs: Vec::new(),
        }],
        at,
    });
    recorder.emit(&Event::Log {
        job: sluice_events::JobKey::new("setup", None),
        step: None,
        stream: Stream::System,
        line: format!("error: {message}"),
        level: sluice_events::LogLevel::Error,
        at,
    });
    recorder.emit(&Event::JobFinished {
        job: sluice_events::JobKey::new("setup", None),
        name: "Set up the run".into(),
        result: Outcome::Failure,
        duration_ms: 0,
        outputs: indexmap::IndexMap::new(),
        at,
    });
    recorder.emit(&Event::RunFinished {
        result: Outcome::Failure,
        duration_ms: 0,
        critical_path: Vec::new(),
        at,
    });
}
