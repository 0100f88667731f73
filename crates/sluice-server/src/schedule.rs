//! `on.schedule`: once a minute (and at start, for the minute it starts
//! in), every schedule of the workflows on the default branch's head that
//! matches the minute (UTC) queues a run. The history notes each minute
//! fired, so neither a restart within the minute nor a second server
//! fires it twice. Minutes the server was down for are not made up (as on
//! GitHub, where a busy minute's schedules may be dropped): a schedule
//! fires at the next minute it matches while the server runs.

use std::sync::Arc;
use std::time::Duration;

use sluice_workflow::CronMinute;

use crate::pipelines::Trigger;
use crate::state::Shared;

const MINUTE_MS: u64 = 60_000;

pub(crate) fn start(shared: &Arc<Shared>) -> std::io::Result<std::thread::JoinHandle<()>> {
    let shared = Arc::clone(shared);
    std::thread::Builder::new()
        .name("sluice-schedule".into())
        .spawn(move || tick(&shared))
}

fn tick(shared: &Shared) {
    let mut last_minute = 0;
    while !shared.shutdown.is_cancelled() {
        let now = sluice_store::timestamp::now_ms();
        let minute = now - now % MINUTE_MS;
        if minute > last_minute {
            last_minute = minute;
            fire_due(shared, minute);
        }
        // Wake a little after the next minute begins, or to notice a stop.
        let until_next = MINUTE_MS - now % MINUTE_MS + 50;
        std::thread::sleep(Duration::from_millis(until_next.min(500)));
    }
}

/// Queues a run for every schedule that matches `minute`.
fn fire_due(shared: &Shared, minute: u64) {
    let schedules = match shared.pipelines.schedules() {
        Ok(schedules) => schedules,
        Err(error) => {
            eprintln!("sluice serve: schedules cannot be read: {error}");
            return;
        }
    };
    let at = CronMinute::from_unix_millis(minute);
    for schedule in schedules.into_iter().filter(|s| s.parsed.matches(at)) {
        let first = shared.histories.with(|history| {
            Ok(history.mark_schedule_fired(
                &shared.config.repository,
                &schedule.workflow_path,
                &schedule.cron,
                minute,
            )?)
        });
        if !matches!(first, Ok(true)) {
            continue;
        }
        let trigger = Trigger::Schedule {
            workflow_path: schedule.workflow_path.clone(),
            cron: schedule.cron.clone(),
            git_ref: schedule.git_ref.clone(),
            sha: schedule.sha.clone(),
        };
        match crate::intake::queue_planned(shared, &trigger) {
            Ok(runs) => {
                shared.work.notify();
                for run in runs {
                    eprintln!(
                        "sluice serve: schedule '{}' of {} queued run #{}",
                        schedule.cron, schedule.workflow_path, run.number
                    );
                }
            }
            Err(error) => {
                eprintln!(
                    "sluice serve: schedule '{}' of {} could not queue a run: {error}",
                    schedule.cron, schedule.workflow_path
                );
                // Not fired after all: the next look (or server) tries again.
                let _ = shared.histories.with(|history| {
                    Ok(history.clear_schedule_mark(
                        &shared.config.repository,
                        &schedule.workflow_path,
                        &schedule.cron,
                        minute,
                    )?)
                });
            }
        }
    }
}
