use sluice_store::{History, RunQuery, StoreError};

use crate::support::{REPO, new_run, state_dir};

#[test]
fn a_fresh_state_dir_gets_the_current_schema() {
    let state = state_dir();
    let nested = state.path().join("a/b/state");
    let history = History::open(&nested).unwrap();
    assert_eq!(history.schema_version().unwrap(), 4);
    assert!(nested.join("history.sqlite").is_file());
    assert_eq!(history.database_path(), nested.join("history.sqlite"));
    assert!(history.recovered_on_open().is_empty());

    let conn = rusqlite::Connection::open(nested.join("history.sqlite")).unwrap();
    let journal: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.sort();
    assert_eq!(
        tables,
        [
            "annotations",
            "artifacts",
            "cache_events",
            "jobs",
            "logs",
            "run_actions",
            "runs",
            "step_summaries",
            "steps"
        ]
    );
}

#[test]
fn reopening_keeps_runs_and_the_schema() {
    let state = state_dir();
    {
        let history = History::open(state.path()).unwrap();
        let recorder = history.start_run(new_run(REPO)).unwrap();
        recorder.finish(Some(0)).unwrap();
    }
    let history = History::open(state.path()).unwrap();
    assert_eq!(history.schema_version().unwrap(), 4);
    let runs = history.list_runs(&RunQuery::default()).unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].exit_code, Some(0));
}

#[test]
fn a_database_from_a_newer_sluice_is_refused() {
    let state = state_dir();
    drop(History::open(state.path()).unwrap());
    let conn = rusqlite::Connection::open(state.path().join("history.sqlite")).unwrap();
    conn.pragma_update(None, "user_version", 99).unwrap();
    drop(conn);

    let error = History::open(state.path()).expect_err("a newer schema must be refused");
    assert!(
        matches!(
            error,
            StoreError::SchemaTooNew {
                found: 99,
                supported: 4,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("history.sqlite"), "{error}");
}

#[test]
fn a_version_2_database_gains_the_later_tables_and_keeps_its_runs() {
    let state = state_dir();
    let history = History::open(state.path()).unwrap();
    let recorder = history.start_run(new_run(REPO)).unwrap();
    recorder.finish(Some(0)).unwrap();
    drop(history);
    // Make the file what a version-2 Sluice left behind.
    let conn = rusqlite::Connection::open(state.path().join("history.sqlite")).unwrap();
    conn.execute_batch("DROP TABLE artifacts; DROP TABLE run_actions")
        .unwrap();
    conn.pragma_update(None, "user_version", 2).unwrap();
    drop(conn);

    let history = History::open(state.path()).unwrap();
    assert_eq!(history.schema_version().unwrap(), 4);
    let runs = history
        .list_runs(&RunQuery {
            repository: Some(REPO.into()),
            workflow: None,
            limit: 10,
        })
        .unwrap();
    assert_eq!(runs.len(), 1, "the run survived the migration");
    assert!(history.artifacts(REPO, runs[0].number).unwrap().is_empty());
}
