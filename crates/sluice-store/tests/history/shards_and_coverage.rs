//! The queues shards take items from, recent test timings, and coverage
//! kept per run.

use sluice_events::{
    CoverageFile, CoverageTotals, DiffTotals, Event, EventSink, JobKey, Outcome, TestCase,
    TestOutcome, Totals,
};
use sluice_store::History;

use crate::support::{REPO, Script, T0, job, new_run, state_dir};

fn items(names: &[(&str, u64)]) -> Vec<(String, u64)> {
    names.iter().map(|(n, ms)| (n.to_string(), *ms)).collect()
}

#[test]
fn a_queue_hands_each_item_out_once_and_takes_back_a_dead_holders() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let queue = "run/test/1";
    let all = items(&[
        ("slow.py", 4000),
        ("mid.py", 2000),
        ("a.py", 500),
        ("b.py", 500),
    ]);
    history.shard_queue_init(queue, &all, T0).unwrap();
    // A second shard making the same queue changes nothing.
    history.shard_queue_init(queue, &all, T0).unwrap();
    let everyone_alive = |_: &str| true;
    let first = history
        .shard_queue_next(queue, "one", 2, &everyone_alive)
        .unwrap();
    assert_eq!(first, vec!["slow.py"], "the longest item goes first");
    let second = history
        .shard_queue_next(queue, "two", 2, &everyone_alive)
        .unwrap();
    assert_eq!(second, vec!["mid.py"]);
    // Shard two dies holding mid.py: it goes back to the queue.
    let two_is_dead = |holder: &str| holder != "two";
    let next = history
        .shard_queue_next(queue, "one", 2, &two_is_dead)
        .unwrap();
    assert_eq!(next, vec!["mid.py"]);
    let mut rest = history
        .shard_queue_next(queue, "one", 2, &two_is_dead)
        .unwrap();
    rest.extend(
        history
            .shard_queue_next(queue, "one", 2, &two_is_dead)
            .unwrap(),
    );
    rest.sort();
    assert_eq!(rest, vec!["a.py", "b.py"]);
    assert!(
        history
            .shard_queue_next(queue, "one", 2, &two_is_dead)
            .unwrap()
            .is_empty()
    );
    // Finished items never come back.
    assert!(
        history
            .shard_queue_next(queue, "three", 2, &|_: &str| false)
            .unwrap()
            .is_empty()
    );
}

fn case(classname: &str, file: &str, time: f64) -> TestCase {
    TestCase {
        suite: "pytest".into(),
        classname: classname.into(),
        name: "test_it".into(),
        file: Some(file.into()),
        line: None,
        outcome: TestOutcome::Passed,
        time,
        message: None,
        details: None,
        runs: 1,
    }
}

#[test]
fn timings_and_coverage_are_read_back_per_run() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let number = recorder.number();
    let mut script = Script::new(&recorder);
    script.run_started(number, vec![job("test", "test", "Test", &[])]);
    let cases = vec![
        case("tests.test_a", "tests/test_a.py", 1.5),
        case("tests.test_b", "tests/test_b.py", 0.25),
    ];
    recorder.emit(&Event::TestReport {
        job: JobKey::new("test", None),
        step: 0,
        attempt: 1,
        files: vec!["report.xml".into()],
        totals: Totals::of(&cases),
        cases,
        tree: None,
        at: T0,
    });
    let totals = CoverageTotals {
        lines_covered: 3,
        lines_total: 4,
        branches_covered: 0,
        branches_total: 0,
    };
    recorder.emit(&Event::CoverageReport {
        job: JobKey::new("test", None),
        step: 0,
        attempt: 1,
        files: vec!["coverage.xml".into()],
        totals,
        per_file: vec![CoverageFile {
            path: "app.py".into(),
            totals,
            covered: "1-3".into(),
            uncovered: "7".into(),
        }],
        diff: Some(DiffTotals {
            base: "abc".into(),
            covered: 1,
            total: 2,
        }),
        at: T0,
    });
    script.run_finished(Outcome::Success, &[]);
    recorder.finish(Some(0)).unwrap();

    let timings = history.recent_test_timings(REPO, 10, None).unwrap();
    let got: Vec<(&str, u64)> = timings
        .iter()
        .map(|t| (t.file.as_str(), t.duration_ms))
        .collect();
    assert_eq!(
        got,
        vec![("tests/test_a.py", 1500), ("tests/test_b.py", 250)]
    );
    assert_eq!(
        history
            .latest_coverage_run(REPO, Some("refs/heads/main"), None)
            .unwrap(),
        Some(number)
    );
    assert_eq!(
        history
            .latest_coverage_run(REPO, Some("refs/heads/other"), None)
            .unwrap(),
        None
    );
    let coverage = history.run_coverage(REPO, number).unwrap();
    assert_eq!(coverage.len(), 1);
    assert_eq!(coverage[0].totals, totals);
    assert_eq!(coverage[0].per_file[0].uncovered, "7");
    assert_eq!(coverage[0].diff.as_ref().map(|d| d.total), Some(2));
}
