use std::error::Error as _;
use std::fs;

use sluice_store::{History, LogFilter, StoreError};

use crate::support::{REPO, Script, new_run, state_dir};

#[test]
fn a_file_that_is_not_a_database_is_an_error_naming_it() {
    let state = state_dir();
    let path = state.path().join("history.sqlite");
    let garbage: Vec<u8> = (0..16_384u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    fs::write(&path, garbage).unwrap();

    let error = History::open(state.path()).expect_err("garbage must not open");
    assert!(matches!(error, StoreError::Database { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    let cause = error
        .source()
        .expect("the SQLite error is the source")
        .to_string();
    assert!(cause.contains("not a database"), "{cause}");
}

#[test]
fn a_truncated_database_is_an_error() {
    let state = state_dir();
    {
        let history = History::open(state.path()).unwrap();
        history
            .start_run(new_run(REPO))
            .unwrap()
            .finish(Some(0))
            .unwrap();
    }
    let path = state.path().join("history.sqlite");
    // Make sure the content is in the main file, then cut it.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
    drop(conn);
    let bytes = fs::read(&path).unwrap();
    let mut damaged = bytes[..100].to_vec();
    damaged.extend(std::iter::repeat_n(0xA5, 3000));
    fs::write(&path, damaged).unwrap();

    // Either opening or the first query must report it; nothing may panic.
    match History::open(state.path()) {
        Err(error) => assert!(error.to_string().contains("history.sqlite"), "{error}"),
        Ok(history) => {
            let error = history
                .run(REPO, 1)
                .expect_err("damaged data must not read as a run");
            assert!(
                error.to_string().contains("history.sqlite")
                    || matches!(error, StoreError::NoSuchRun { .. })
            );
        }
    }
}

#[test]
fn a_state_dir_that_is_a_file_is_an_error() {
    let state = state_dir();
    let file = state.path().join("not-a-dir");
    fs::write(&file, "x").unwrap();
    let error = History::open(&file).expect_err("a file is not a state dir");
    assert!(
        matches!(error, StoreError::CreateStateDir { .. }),
        "{error:?}"
    );
}

#[test]
fn a_damaged_log_chunk_is_an_error_not_a_panic() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    let mut script = Script::new(&recorder);
    script.step_started("build", 0, "", "Build");
    script.log("build", Some(0), sluice_events::Stream::Stdout, "hello");
    script.step_finished(
        "build",
        0,
        sluice_events::Outcome::Success,
        sluice_events::Outcome::Success,
        Some(0),
    );
    recorder.finish(Some(0)).unwrap();

    let conn = rusqlite::Connection::open(state.path().join("history.sqlite")).unwrap();
    conn.execute("UPDATE logs SET data = x'00112233'", [])
        .unwrap();
    drop(conn);

    let error = history
        .logs(REPO, 1, &LogFilter::default())
        .expect_err("damage must be reported");
    assert!(matches!(error, StoreError::CorruptLog { .. }), "{error:?}");
}
