use std::sync::Barrier;
use std::thread;

use sluice_store::{History, RunQuery, Status};

use crate::support::{REPO, new_run, state_dir};

#[test]
fn runs_are_numbered_per_repository() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let mut numbers = Vec::new();
    for repository in [REPO, REPO, "/other", REPO, "/other"] {
        let recorder = history.start_run(new_run(repository)).unwrap();
        numbers.push((repository, recorder.number()));
        recorder.finish(Some(0)).unwrap();
    }
    assert_eq!(
        numbers,
        [
            (REPO, 1),
            (REPO, 2),
            ("/other", 1),
            (REPO, 3),
            ("/other", 2)
        ]
    );
    assert_eq!(history.latest_run_number(REPO).unwrap(), Some(3));
    assert_eq!(history.latest_run_number("/nowhere").unwrap(), None);

    let other = history
        .list_runs(&RunQuery {
            repository: Some("/other".to_owned()),
            ..RunQuery::default()
        })
        .unwrap();
    assert_eq!(
        other.iter().map(|run| run.number).collect::<Vec<_>>(),
        [2, 1]
    );
}

/// Several connections (as several processes would have) race to start
/// runs of one repository; every number is handed out exactly once.
#[test]
fn concurrent_starts_never_share_a_number() {
    const THREADS: usize = 4;
    const RUNS_EACH: usize = 10;
    let state = state_dir();
    let barrier = Barrier::new(THREADS);
    let mut numbers: Vec<u64> = thread::scope(|scope| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    // Each thread opens its own History: a separate connection,
                    // racing on creation and migration of the fresh file too.
                    let history = History::open(state.path()).unwrap();
                    (0..RUNS_EACH)
                        .map(|_| {
                            let recorder = history.start_run(new_run(REPO)).unwrap();
                            let number = recorder.number();
                            recorder.finish(Some(0)).unwrap();
                            number
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().unwrap())
            .collect()
    });
    numbers.sort_unstable();
    let expected: Vec<u64> = (1..=(THREADS * RUNS_EACH) as u64).collect();
    assert_eq!(numbers, expected);

    let history = History::open(state.path()).unwrap();
    let runs = history
        .list_runs(&RunQuery {
            limit: 1000,
            ..RunQuery::default()
        })
        .unwrap();
    assert_eq!(runs.len(), THREADS * RUNS_EACH);
    // finish() without a RunFinished event: the run did not complete.
    assert!(runs.iter().all(|run| run.status == Status::Interrupted));
}

#[test]
fn listing_is_newest_first_with_a_limit_and_a_workflow_filter() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    for index in 0..5u64 {
        let mut run = new_run(REPO);
        run.started_at += index * 1000;
        if index % 2 == 1 {
            run.workflow = "Release".to_owned();
            run.workflow_path = ".github/workflows/release.yml".to_owned();
        }
        history.start_run(run).unwrap().finish(None).unwrap();
    }
    let newest_two = history
        .list_runs(&RunQuery {
            limit: 2,
            ..RunQuery::default()
        })
        .unwrap();
    assert_eq!(
        newest_two.iter().map(|run| run.number).collect::<Vec<_>>(),
        [5, 4]
    );

    for filter in ["Release", ".github/workflows/release.yml"] {
        let releases = history
            .list_runs(&RunQuery {
                workflow: Some(filter.to_owned()),
                ..RunQuery::default()
            })
            .unwrap();
        assert_eq!(
            releases.iter().map(|run| run.number).collect::<Vec<_>>(),
            [4, 2]
        );
    }
    assert_eq!(newest_two[0].short_sha(), "0123456");
}
