//! Deployment environments: jobs waiting for approval, the decisions
//! taken on them, and what was deployed where.

use sluice_events::{ApprovalDecision, Event, EventSink, JobKey, Outcome};
use sluice_store::{
    DecisionOutcome, DecisionRequest, DeploymentQuery, History, NewRun, Recorder, Status,
};

use crate::support::{REPO, T0, state_dir};

fn run_at(history: &History, sha: &str) -> Recorder {
    history
        .start_run(NewRun {
            sha: sha.to_owned(),
            ..crate::support::new_run(REPO)
        })
        .unwrap()
}

fn key(text: &str) -> JobKey {
    JobKey::parse(text).unwrap()
}

fn waiting(sink: &dyn EventSink, job: &str, environment: &str, approvals: u32, at: u64) {
    sink.emit(&Event::JobWaiting {
        job: key(job),
        name: job.to_owned(),
        environment: environment.to_owned(),
        required_approvals: approvals,
        wait_timer_ms: 0,
        approval_deadline: Some(at + 86_400_000),
        at,
    });
}

fn deploy(sink: &dyn EventSink, job: &str, environment: &str, result: Outcome, at: u64) {
    sink.emit(&Event::DeploymentStarted {
        job: key(job),
        environment: environment.to_owned(),
        at,
    });
    sink.emit(&Event::DeploymentFinished {
        job: key(job),
        environment: environment.to_owned(),
        url: Some(format!("https://{environment}.example.invalid")),
        result,
        at: at + 1000,
    });
}

fn decision<'a>(
    number: u64,
    environment: Option<&'a str>,
    decision: ApprovalDecision,
    by: &'a str,
    at: u64,
) -> DecisionRequest<'a> {
    DecisionRequest {
        repository: REPO,
        number,
        environment,
        decision,
        by,
        comment: None,
        at,
    }
}

#[test]
fn a_waiting_job_is_recorded_with_its_environment() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = run_at(&history, "aaa");
    waiting(&recorder, "deploy", "production", 1, T0);
    recorder.sync();

    let run = history.run(REPO, recorder.number()).unwrap();
    let job = &run.jobs[0];
    assert_eq!(job.status, Status::Waiting);
    assert!(!job.status.is_finished());
    assert_eq!(job.environment.as_deref(), Some("production"));
    let wait = job.waiting.as_ref().expect("what it waits for");
    assert_eq!(wait.required_approvals, 1);
    assert_eq!(wait.since, T0);
    assert_eq!(wait.approval_deadline, Some(T0 + 86_400_000));
    recorder.finish(Some(0)).unwrap();
}

#[test]
fn approvals_count_distinct_people_until_enough_approved() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = run_at(&history, "aaa");
    let number = recorder.number();
    waiting(&recorder, "deploy", "production", 2, T0);
    recorder.sync();

    let approve = |by, at| {
        history
            .decide(&decision(number, None, ApprovalDecision::Approve, by, at))
            .unwrap()
    };
    let DecisionOutcome::Recorded {
        environment,
        jobs,
        approved_by,
        required_approvals,
    } = approve("ada", T0 + 10)
    else {
        panic!("the approval is recorded");
    };
    assert_eq!(environment, "production");
    assert_eq!(jobs, [key("deploy")]);
    assert_eq!(approved_by, ["ada"]);
    assert_eq!(required_approvals, 2);
    // The same person again does not make two approvals.
    let DecisionOutcome::Recorded { approved_by, .. } = approve("ada", T0 + 20) else {
        panic!("recorded");
    };
    assert_eq!(approved_by, ["ada"]);
    let pending = history.pending_approvals(REPO, number, T0 + 30).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].approved_by, ["ada"]);

    approve("bob", T0 + 40);
    assert!(
        history
            .pending_approvals(REPO, number, T0 + 50)
            .unwrap()
            .is_empty(),
        "two approvers are enough"
    );
    assert!(matches!(
        approve("cy", T0 + 60),
        DecisionOutcome::NothingWaiting {
            status: Status::Running
        }
    ));

    let run_id = recorder.run_id();
    let decisions = history
        .approval_decisions(run_id, "PRODUCTION", T0)
        .unwrap();
    let by: Vec<&str> = decisions.iter().map(|d| d.by.as_str()).collect();
    assert_eq!(by, ["ada", "ada", "bob"], "names compare without case");
    assert_eq!(history.run(REPO, number).unwrap().approvals.len(), 3);
    recorder.finish(Some(0)).unwrap();
}

#[test]
fn a_rejection_ends_the_wait() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = run_at(&history, "aaa");
    let number = recorder.number();
    waiting(&recorder, "deploy", "production", 1, T0);
    recorder.sync();
    let mut request = decision(number, None, ApprovalDecision::Reject, "bob", T0 + 5);
    request.comment = Some("not on a Friday");
    assert!(matches!(
        history.decide(&request).unwrap(),
        DecisionOutcome::Recorded { .. }
    ));
    assert!(
        history
            .pending_approvals(REPO, number, T0 + 6)
            .unwrap()
            .is_empty()
    );
    let approvals = history.run(REPO, number).unwrap().approvals;
    assert_eq!(approvals[0].comment.as_deref(), Some("not on a Friday"));
    assert_eq!(approvals[0].decision, ApprovalDecision::Reject);
    recorder.finish(Some(1)).unwrap();
}

#[test]
fn a_decision_must_name_the_environment_when_several_wait() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = run_at(&history, "aaa");
    let number = recorder.number();
    waiting(&recorder, "staging", "staging", 1, T0);
    waiting(&recorder, "production", "production", 1, T0);
    recorder.sync();

    let outcome = history
        .decide(&decision(
            number,
            None,
            ApprovalDecision::Approve,
            "ada",
            T0 + 1,
        ))
        .unwrap();
    assert_eq!(
        outcome,
        DecisionOutcome::Ambiguous {
            waiting: vec!["staging".into(), "production".into()]
        }
    );
    let outcome = history
        .decide(&decision(
            number,
            Some("qa"),
            ApprovalDecision::Approve,
            "ada",
            T0 + 1,
        ))
        .unwrap();
    assert!(
        matches!(&outcome, DecisionOutcome::NotWaitingThere { environment, waiting }
            if environment == "qa" && waiting.len() == 2),
        "{outcome:?}"
    );
    let outcome = history
        .decide(&decision(
            number,
            Some("Staging"),
            ApprovalDecision::Approve,
            "ada",
            T0 + 1,
        ))
        .unwrap();
    assert!(
        matches!(outcome, DecisionOutcome::Recorded { environment, .. } if environment == "staging")
    );
    assert!(
        history.run(REPO, number).unwrap().approvals.len() == 1,
        "only the recorded decision is kept"
    );
    recorder.finish(Some(0)).unwrap();
}

#[test]
fn decisions_taken_before_a_job_began_to_wait_do_not_count_for_it() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = run_at(&history, "aaa");
    let number = recorder.number();
    waiting(&recorder, "deploy", "production", 1, T0);
    recorder.sync();
    history
        .decide(&decision(
            number,
            None,
            ApprovalDecision::Approve,
            "ada",
            T0 + 5,
        ))
        .unwrap();
    // A later job of the run waits for the same environment.
    waiting(&recorder, "deploy-again", "production", 1, T0 + 100);
    recorder.sync();
    let pending = history.pending_approvals(REPO, number, T0 + 101).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].jobs, [key("deploy-again")]);
    assert!(pending[0].approved_by.is_empty());
    let run_id = recorder.run_id();
    assert!(
        history
            .approval_decisions(run_id, "production", T0 + 100)
            .unwrap()
            .is_empty()
    );
    recorder.finish(Some(0)).unwrap();
}

#[test]
fn a_job_past_its_deadline_waits_for_nobody() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = run_at(&history, "aaa");
    let number = recorder.number();
    waiting(&recorder, "deploy", "production", 1, T0);
    recorder.sync();
    let late = T0 + 86_400_000;
    assert!(matches!(
        history
            .decide(&decision(
                number,
                None,
                ApprovalDecision::Approve,
                "ada",
                late
            ))
            .unwrap(),
        DecisionOutcome::NothingWaiting { .. }
    ));
    recorder.finish(Some(1)).unwrap();
}

#[test]
fn deployments_record_the_range_of_commits_they_ship() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    for (sha, result) in [
        ("1111111aaaa", Outcome::Success),
        ("2222222bbbb", Outcome::Failure),
        ("3333333cccc", Outcome::Success),
    ] {
        let recorder = run_at(&history, sha);
        deploy(&recorder, "deploy", "production", result, T0);
        recorder.finish(Some(0)).unwrap();
    }
    let recorder = run_at(&history, "4444444dddd");
    deploy(&recorder, "stage", "staging", Outcome::Success, T0 + 5);
    recorder.finish(Some(0)).unwrap();

    let all = history
        .deployments(&DeploymentQuery {
            repository: REPO.into(),
            environment: None,
            limit: 10,
        })
        .unwrap();
    let rows: Vec<(&str, u64, Option<&str>, &str, Status)> = all
        .iter()
        .map(|d| {
            (
                d.environment.as_str(),
                d.run,
                d.short_previous_sha(),
                d.short_sha(),
                d.status,
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("production", 3, Some("1111111"), "3333333", Status::Success),
            ("production", 2, Some("1111111"), "2222222", Status::Failure),
            ("production", 1, None, "1111111", Status::Success),
            ("staging", 4, None, "4444444", Status::Success),
        ]
    );
    assert_eq!(
        all[0].url.as_deref(),
        Some("https://production.example.invalid")
    );
    assert_eq!(all[0].finished_at, Some(T0 + 1000));

    let newest = history
        .deployments(&DeploymentQuery {
            repository: REPO.into(),
            environment: Some("PRODUCTION".into()),
            limit: 1,
        })
        .unwrap();
    assert_eq!(newest.len(), 1);
    assert_eq!(newest[0].run, 3);
    let run = history.run(REPO, 3).unwrap();
    assert_eq!(run.deployments.len(), 1);
    assert_eq!(run.jobs[0].environment.as_deref(), Some("production"));
}

#[test]
fn a_run_cut_off_ends_its_waiting_jobs_and_deployments_interrupted() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = run_at(&history, "aaa");
    let number = recorder.number();
    waiting(&recorder, "approve-me", "production", 1, T0);
    recorder.emit(&Event::DeploymentStarted {
        job: key("stage"),
        environment: "staging".into(),
        at: T0,
    });
    // No RunFinished: the recording ends as if the process died.
    recorder.finish(None).unwrap();

    let run = history.run(REPO, number).unwrap();
    assert_eq!(run.summary.status, Status::Interrupted);
    let waiting_job = run.jobs.iter().find(|j| j.key == "approve-me").unwrap();
    assert_eq!(waiting_job.status, Status::Interrupted);
    assert!(waiting_job.waiting.is_none());
    assert_eq!(run.deployments[0].status, Status::Interrupted);
}
