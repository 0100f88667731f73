//! Queued runs and concurrency groups, as GitHub behaves: one running and
//! one waiting per group, the newer waiting run replacing the older, and
//! `cancel-in-progress` asking the running one to stop.

use sluice_events::Outcome;
use sluice_store::{
    CancelOutcome, GroupMembership, History, QueueRequest, RunQuery, StartDecision, Starter, Status,
};

use crate::support::{REPO, Script, T0, new_run, state_dir};

fn request(group: Option<&str>, cancel_in_progress: bool, starter: Starter) -> QueueRequest {
    QueueRequest {
        repository: REPO.into(),
        workflow: "CI".into(),
        workflow_path: ".github/workflows/ci.yml".into(),
        event: "push".into(),
        git_ref: "refs/heads/main".into(),
        sha: "0123456789abcdef0123456789abcdef01234567".into(),
        request: Some("{\"event\":\"push\"}".into()),
        concurrency: group.map(|group| GroupMembership {
            group: group.into(),
            cancel_in_progress,
            keep_waiting: false,
        }),
        starter,
        queued_at: T0,
    }
}

fn status_of(history: &History, number: u64) -> Status {
    history.run(REPO, number).unwrap().summary.status
}

/// Ends a started run through its recorder, as a run does.
fn finish(history: &History, run_id: i64) {
    let recorder = history.recorder_for(run_id).unwrap();
    Script::new(&recorder).run_finished(Outcome::Success, &[]);
    recorder.finish(Some(0)).unwrap();
}

#[test]
fn queued_runs_are_numbered_with_the_others_and_listed_as_queued() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    history
        .start_run(new_run(REPO))
        .unwrap()
        .finish(Some(0))
        .unwrap();
    let queued = history
        .enqueue(&request(None, false, Starter::AnyServer))
        .unwrap();
    assert_eq!(queued.number, 2);
    let runs = history
        .list_runs(&RunQuery {
            status: Some(Status::Queued),
            ..RunQuery::default()
        })
        .unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].number, 2);
    assert_eq!(runs[0].started_at, None);
    assert_eq!(history.queue_depth(REPO).unwrap(), 1);
    assert_eq!(
        history.run_request(REPO, 2).unwrap().as_deref(),
        Some("{\"event\":\"push\"}")
    );
}

#[test]
fn a_newer_waiting_run_replaces_the_older_and_runs_after_the_running_one() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let first = history
        .enqueue(&request(Some("deploy"), false, Starter::ThisProcess))
        .unwrap();
    assert_eq!(
        history.try_start(first.run_id).unwrap(),
        StartDecision::Started
    );

    let second = history
        .enqueue(&request(Some("deploy"), false, Starter::ThisProcess))
        .unwrap();
    assert_eq!(
        history.try_start(second.run_id).unwrap(),
        StartDecision::Waiting { behind: 1 }
    );
    let third = history
        .enqueue(&request(Some("deploy"), false, Starter::ThisProcess))
        .unwrap();
    assert_eq!(third.replaced, [2]);
    assert!(third.cancelling.is_empty());
    assert_eq!(
        history.try_start(second.run_id).unwrap(),
        StartDecision::Cancelled
    );
    assert_eq!(status_of(&history, 2), Status::Cancelled);
    assert_eq!(
        history.try_start(third.run_id).unwrap(),
        StartDecision::Waiting { behind: 1 }
    );

    finish(&history, first.run_id);
    assert_eq!(
        history.try_start(third.run_id).unwrap(),
        StartDecision::Started
    );
    assert_eq!(status_of(&history, 3), Status::Running);
}

#[test]
fn cancel_in_progress_asks_the_running_run_to_stop() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let first = history
        .enqueue(&request(Some("ci-main"), true, Starter::ThisProcess))
        .unwrap();
    history.try_start(first.run_id).unwrap();
    assert!(!history.cancel_requested(first.run_id).unwrap());
    let second = history
        .enqueue(&request(Some("ci-main"), true, Starter::ThisProcess))
        .unwrap();
    assert_eq!(second.cancelling, [1]);
    assert!(history.cancel_requested(first.run_id).unwrap());
    // Another group is left alone.
    let other = history
        .enqueue(&request(Some("ci-dev"), true, Starter::ThisProcess))
        .unwrap();
    assert!(other.cancelling.is_empty());
    assert_eq!(
        history.try_start(other.run_id).unwrap(),
        StartDecision::Started
    );
}

#[test]
fn a_group_that_queues_keeps_every_waiting_run_in_order() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let queueing = |history: &History| {
        let mut run = request(Some("release"), false, Starter::AnyServer);
        if let Some(membership) = &mut run.concurrency {
            membership.keep_waiting = true;
        }
        history.enqueue(&run).unwrap()
    };
    let first = queueing(&history);
    let second = queueing(&history);
    let third = queueing(&history);
    assert!(second.replaced.is_empty() && third.replaced.is_empty());
    let claimed = history.claim_next(REPO).unwrap().unwrap();
    assert_eq!(claimed.number, first.number);
    assert_eq!(history.claim_next(REPO).unwrap(), None, "the group is busy");
    finish(&history, claimed.run_id);
    assert_eq!(
        history.claim_next(REPO).unwrap().unwrap().number,
        second.number
    );
}

#[test]
fn servers_take_only_runs_queued_for_them_oldest_first() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    history
        .enqueue(&request(None, false, Starter::ThisProcess))
        .unwrap();
    let for_server = history
        .enqueue(&request(None, false, Starter::AnyServer))
        .unwrap();
    let later = history
        .enqueue(&request(None, false, Starter::AnyServer))
        .unwrap();
    let claimed = history.claim_next(REPO).unwrap().unwrap();
    assert_eq!(claimed.number, for_server.number);
    assert_eq!(claimed.request.as_deref(), Some("{\"event\":\"push\"}"));
    assert_eq!(status_of(&history, for_server.number), Status::Running);
    assert_eq!(
        history.claim_next(REPO).unwrap().unwrap().number,
        later.number
    );
    assert_eq!(history.claim_next(REPO).unwrap(), None);
    assert_eq!(history.claim_next("/another/repo").unwrap(), None);
}

#[test]
fn cancelling_a_queued_run_ends_it_and_a_running_one_is_asked() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let queued = history
        .enqueue(&request(None, false, Starter::AnyServer))
        .unwrap();
    let running = history
        .enqueue(&request(None, false, Starter::ThisProcess))
        .unwrap();
    history.try_start(running.run_id).unwrap();

    assert_eq!(
        history.request_cancel(REPO, queued.number).unwrap(),
        CancelOutcome::CancelledWhileQueued
    );
    assert_eq!(status_of(&history, queued.number), Status::Cancelled);
    assert_eq!(history.claim_next(REPO).unwrap(), None);

    assert_eq!(
        history.request_cancel(REPO, running.number).unwrap(),
        CancelOutcome::Requested
    );
    assert!(history.cancel_requested(running.run_id).unwrap());
    finish(&history, running.run_id);
    assert_eq!(
        history.request_cancel(REPO, running.number).unwrap(),
        CancelOutcome::AlreadyOver(Status::Success)
    );
    assert!(history.request_cancel(REPO, 99).is_err());
}

#[test]
fn a_waiting_process_that_died_frees_its_group() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let dead = history
        .enqueue(&request(Some("g"), false, Starter::ThisProcess))
        .unwrap();
    history.try_start(dead.run_id).unwrap();
    // Its owner is a process that has exited.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let gone_pid = child.id();
    child.wait().unwrap();
    let conn = rusqlite::Connection::open(history.database_path()).unwrap();
    conn.execute(
        "UPDATE runs SET owner_pid = ?1, owner_start_ticks = NULL WHERE id = ?2",
        rusqlite::params![gone_pid, dead.run_id],
    )
    .unwrap();

    let next = history
        .enqueue(&request(Some("g"), false, Starter::ThisProcess))
        .unwrap();
    // The first try finds the group held, and recovers the dead run.
    assert_eq!(
        history.try_start(next.run_id).unwrap(),
        StartDecision::Waiting {
            behind: dead.number
        }
    );
    assert_eq!(status_of(&history, dead.number), Status::Interrupted);
    assert_eq!(
        history.try_start(next.run_id).unwrap(),
        StartDecision::Started
    );
}

#[test]
fn queuing_a_run_again_keeps_its_group_and_how_the_group_queues() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let queueing = |history: &History| {
        let mut run = request(Some("release"), false, Starter::AnyServer);
        if let Some(membership) = &mut run.concurrency {
            membership.keep_waiting = true;
        }
        history.enqueue(&run).unwrap()
    };
    let first = queueing(&history);
    let claimed = history.claim_next(REPO).unwrap().unwrap();
    finish(&history, claimed.run_id);
    let waiting = queueing(&history);
    let again = history
        .requeue(REPO, first.number, "{\"again\":true}", T0)
        .unwrap();
    assert!(
        again.replaced.is_empty(),
        "a queueing group replaces nothing"
    );
    assert_eq!(status_of(&history, waiting.number), Status::Queued);
    assert_eq!(
        history.run_request(REPO, again.number).unwrap().as_deref(),
        Some("{\"again\":true}")
    );
}

#[test]
fn interrupted_server_runs_are_queued_again_once_whoever_recovered_them() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let queued = history
        .enqueue(&request(Some("g"), false, Starter::AnyServer))
        .unwrap();
    let claimed = history.claim_next(REPO).unwrap().unwrap();
    assert_eq!(claimed.number, queued.number);
    history.abandon(claimed.run_id).unwrap();
    assert_eq!(status_of(&history, queued.number), Status::Interrupted);
    let requeued = history.requeue_interrupted(REPO).unwrap();
    assert_eq!(requeued, [(queued.number, queued.number + 1)]);
    assert!(history.requeue_interrupted(REPO).unwrap().is_empty());
    assert_eq!(status_of(&history, queued.number + 1), Status::Queued);
}
