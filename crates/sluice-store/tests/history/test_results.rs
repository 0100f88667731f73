//! Test results kept per test across runs.

use sluice_events::{Event, EventSink, JobKey, Outcome, TestCase, TestOutcome, Totals};
use sluice_store::History;

use crate::support::{REPO, Script, T0, job, new_run, state_dir};

fn case(name: &str, outcome: TestOutcome, time: f64) -> TestCase {
    TestCase {
        suite: "pytest".into(),
        classname: "tests.test_api".into(),
        name: name.into(),
        file: Some("tests/test_api.py".into()),
        line: Some(10),
        outcome,
        time,
        message: outcome
            .is_failure()
            .then(|| "assert 1 == 2\nmore lines".to_string()),
        details: None,
        runs: 1,
    }
}

fn record(history: &History, attempts: &[Vec<TestCase>]) -> u64 {
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let number = recorder.number();
    let mut script = Script::new(&recorder);
    script.run_started(number, vec![job("test", "test", "Test", &[])]);
    for (index, cases) in attempts.iter().enumerate() {
        recorder.emit(&Event::TestReport {
            job: JobKey::new("test", None),
            step: 0,
            attempt: index as u32 + 1,
            files: vec!["report.xml".into()],
            totals: Totals::of(cases),
            cases: cases.clone(),
            tree: Some("4b825dc642cb6eb9a060e54bf8d69288fbee4904".into()),
            at: T0 + index as u64,
        });
    }
    script.run_finished(Outcome::Success, &[]);
    recorder.finish(Some(0)).unwrap();
    number
}

#[test]
fn results_are_kept_per_test_and_attempt_and_read_back() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let first = record(
        &history,
        &[
            vec![
                case("test_a", TestOutcome::Failed, 1.5),
                case("test_b", TestOutcome::Passed, 0.25),
            ],
            vec![case("test_a", TestOutcome::Passed, 1.25)],
        ],
    );
    let second = record(&history, &[vec![case("test_a", TestOutcome::Passed, 1.0)]]);
    let run = history.run_test_results(REPO, first).unwrap();
    let got: Vec<(String, u32, TestOutcome, u64)> = run
        .iter()
        .map(|r| (r.test.name.clone(), r.attempt, r.outcome, r.duration_ms))
        .collect();
    assert_eq!(
        got,
        [
            ("test_a".into(), 1, TestOutcome::Failed, 1500),
            ("test_b".into(), 1, TestOutcome::Passed, 250),
            ("test_a".into(), 2, TestOutcome::Passed, 1250)
        ]
    );
    assert_eq!(run[0].message.as_deref(), Some("assert 1 == 2"));
    assert_eq!(run[0].git_ref, "refs/heads/main");
    let history_of_a = history
        .test_history(REPO, "tests.test_api::test_a", 10)
        .unwrap();
    let runs: Vec<u64> = history_of_a.iter().map(|r| r.run).collect();
    assert_eq!(runs, [second, first, first]);
    assert_eq!(history.test_history(REPO, "test_b", 10).unwrap().len(), 1);
    assert_eq!(history.test_results_since(REPO, T0).unwrap().len(), 4);
    assert!(
        history
            .test_history("/another", "test_a", 10)
            .unwrap()
            .is_empty()
    );
}
