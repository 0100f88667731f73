use sluice_events::{Outcome, Stream};
use sluice_store::{History, JobSelector, LogFilter, StepSelector, StoreError};

use crate::support::{REPO, Script, job, new_run, state_dir};

/// A run with a two-instance matrix job and a plain job; every line says
/// where it came from.
fn matrix_run() -> (tempfile::TempDir, History) {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let mut script = Script::new(&recorder);
    script.run_started(
        1,
        vec![
            job("lint", "lint", "Lint", &[]),
            job("test[0]", "test", "Test", &[]),
            job("test[1]", "test", "Test", &[]),
        ],
    );
    for key in ["lint", "test[0]", "test[1]"] {
        script.job_started(key, key);
        script.log(key, None, Stream::System, &format!("{key} job"));
        for (index, (id, name)) in [("setup", "Set up"), ("run", "Run it")]
            .into_iter()
            .enumerate()
        {
            script.step_started(key, index, id, name);
            script.log(key, Some(index), Stream::Stdout, &format!("{key} {id}"));
            script.step_finished(key, index, Outcome::Success, Outcome::Success, Some(0));
        }
        script.job_finished(key, key, Outcome::Success, &[]);
    }
    script.run_finished(Outcome::Success, &[]);
    recorder.finish(Some(0)).unwrap();
    (state, history)
}

fn texts(history: &History, job: JobSelector, step: StepSelector) -> Vec<String> {
    history
        .logs(REPO, 1, &LogFilter { job, step })
        .unwrap()
        .into_iter()
        .map(|line| line.text)
        .collect()
}

#[test]
fn jobs_are_chosen_by_key_id_or_name() {
    let (_state, history) = matrix_run();
    let all_of_test_1 = ["test[1] job", "test[1] setup", "test[1] run"];
    assert_eq!(
        texts(
            &history,
            JobSelector::Key("test[1]".into()),
            StepSelector::All
        ),
        all_of_test_1
    );
    assert_eq!(
        texts(
            &history,
            JobSelector::Auto("test[1]".into()),
            StepSelector::All
        ),
        all_of_test_1
    );

    let both_instances = ["test[0] run", "test[1] run"];
    assert_eq!(
        texts(
            &history,
            JobSelector::Id("test".into()),
            StepSelector::Id("run".into())
        ),
        both_instances
    );
    assert_eq!(
        texts(
            &history,
            JobSelector::Auto("test".into()),
            StepSelector::Auto("run".into())
        ),
        both_instances
    );
    assert_eq!(
        texts(
            &history,
            JobSelector::Name("lint".into()),
            StepSelector::JobLevel
        ),
        ["lint job"]
    );
    assert_eq!(
        texts(
            &history,
            JobSelector::Auto("lint".into()),
            StepSelector::Auto("Set up".into())
        ),
        ["lint setup"]
    );
}

#[test]
fn steps_are_chosen_by_index_id_or_name() {
    let (_state, history) = matrix_run();
    let lint = || JobSelector::Key("lint".into());
    assert_eq!(
        texts(&history, lint(), StepSelector::Index(1)),
        ["lint run"]
    );
    assert_eq!(
        texts(&history, lint(), StepSelector::Auto("0".into())),
        ["lint setup"]
    );
    assert_eq!(
        texts(&history, lint(), StepSelector::Id("setup".into())),
        ["lint setup"]
    );
    assert_eq!(
        texts(&history, lint(), StepSelector::Name("Run it".into())),
        ["lint run"]
    );
    assert_eq!(
        texts(&history, JobSelector::All, StepSelector::Index(0)),
        ["lint setup", "test[0] setup", "test[1] setup"]
    );
    let labels: Vec<(String, Option<usize>, Option<String>)> = history
        .logs(
            REPO,
            1,
            &LogFilter {
                job: lint(),
                step: StepSelector::All,
            },
        )
        .unwrap()
        .into_iter()
        .map(|line| (line.job.to_string(), line.step, line.step_name))
        .collect();
    assert_eq!(
        labels,
        [
            ("lint".to_owned(), None, None),
            ("lint".to_owned(), Some(0), Some("Set up".to_owned())),
            ("lint".to_owned(), Some(1), Some("Run it".to_owned())),
        ]
    );
}

#[test]
fn unknown_runs_jobs_and_steps_are_errors_that_say_what_exists() {
    let (_state, history) = matrix_run();
    let error = history.logs(REPO, 9, &LogFilter::default()).unwrap_err();
    assert!(
        matches!(error, StoreError::NoSuchRun { number: 9, .. }),
        "{error:?}"
    );
    assert!(matches!(
        history.run(REPO, 9),
        Err(StoreError::NoSuchRun { .. })
    ));
    assert!(matches!(
        history.run("/elsewhere", 1),
        Err(StoreError::NoSuchRun { .. })
    ));

    let error = history
        .logs(
            REPO,
            1,
            &LogFilter {
                job: JobSelector::Auto("deploy".into()),
                step: StepSelector::All,
            },
        )
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "run #1 has no job matching `deploy` (its jobs: lint, test[0], test[1])"
    );

    let error = history
        .logs(
            REPO,
            1,
            &LogFilter {
                job: JobSelector::Id("test".into()),
                step: StepSelector::Auto("7".into()),
            },
        )
        .unwrap_err();
    assert!(matches!(error, StoreError::NoSuchStep { .. }), "{error:?}");
    assert_eq!(
        error.to_string(),
        "run #1 has no step matching `7` in test[0], test[1]"
    );
}
