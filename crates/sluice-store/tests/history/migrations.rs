use sluice_store::{History, RunQuery, StoreError};

use crate::support::{REPO, new_run, state_dir};

#[test]
fn a_fresh_state_dir_gets_the_current_schema() {
    let state = state_dir();
    let nested = state.path().join("a/b/state");
    let history = History::open(&nested).unwrap();
    assert_eq!(history.schema_version().unwrap(), 10);
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
            "api_tokens",
            "app_deploys",
            "artifacts",
            "cache_events",
            "coverage_files",
            "coverage_reports",
            "deliveries",
            "environment_approvals",
            "environment_deployments",
            "job_concurrency",
            "jobs",
            "logs",
            "notifications",
            "perf_results",
            "run_actions",
            "runs",
            "schedule_marks",
            "shard_queue",
            "step_summaries",
            "steps",
            "test_reports",
            "test_results",
            "testbeds",
            "tests"
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
    assert_eq!(history.schema_version().unwrap(), 10);
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
                supported: 10,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("history.sqlite"), "{error}");
}

/// The schema files of versions 1 to 4, as a version-4 Sluice applied them.
const OLD_SCHEMA: [&str; 4] = [
    include_str!("../../src/migrations/0001_run_history.sql"),
    include_str!("../../src/migrations/0002_cache_events.sql"),
    include_str!("../../src/migrations/0003_artifacts.sql"),
    include_str!("../../src/migrations/0004_run_actions.sql"),
];

/// A database as a version-4 Sluice left it: runs 1 and 3 (2 was deleted,
/// so ids up to 3 were used), a job of run 3 with a step.
fn version_4_database(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    for sql in OLD_SCHEMA {
        conn.execute_batch(sql).unwrap();
    }
    conn.pragma_update(None, "user_version", 4).unwrap();
    conn.execute_batch(&format!(
        "INSERT INTO runs (id, repository, number, workflow, workflow_path, event, git_ref, sha,
                           status, started_at, finished_at, duration_ms, owner_pid)
         VALUES (1, '{REPO}', 1, 'CI', '.github/workflows/ci.yml', 'push', 'refs/heads/main',
                 'abc', 'success', 1000, 2000, 1000, 1),
                (2, '{REPO}', 2, 'CI', '.github/workflows/ci.yml', 'push', 'refs/heads/main',
                 'abd', 'failure', 3000, 4000, 1000, 1),
                (3, '{REPO}', 3, 'CI', '.github/workflows/ci.yml', 'push', 'refs/heads/main',
                 'abe', 'failure', 5000, 6000, 1000, 1);
         DELETE FROM runs WHERE id = 3;
         INSERT INTO jobs (run_id, job_key, job_id, name, position, status)
         VALUES (2, 'build', 'build', 'build', 0, 'failure');
         INSERT INTO steps (run_id, job_key, step_index, step_id, name, status)
         VALUES (2, 'build', 0, 'make', 'make', 'failure');"
    ))
    .unwrap();
}

#[test]
fn a_version_4_database_keeps_its_runs_jobs_and_ids_through_the_rebuild() {
    let state = state_dir();
    std::fs::create_dir_all(state.path()).unwrap();
    version_4_database(&state.path().join("history.sqlite"));

    let history = History::open(state.path()).unwrap();
    assert_eq!(history.schema_version().unwrap(), 10);
    let runs = history.list_runs(&RunQuery::default()).unwrap();
    let numbers: Vec<u64> = runs.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [2, 1]);
    assert_eq!(runs[0].queued_at, 3000, "queued when it started");
    assert_eq!(runs[0].started_at, Some(3000));
    let detail = history.run(REPO, 2).unwrap();
    assert_eq!(detail.jobs.len(), 1, "the job still refers to its run");
    assert_eq!(detail.jobs[0].steps.len(), 1);

    // A new run gets an id past every id used before (3 was deleted).
    let recorder = history.start_run(new_run(REPO)).unwrap();
    recorder.finish(Some(0)).unwrap();
    let conn = rusqlite::Connection::open(state.path().join("history.sqlite")).unwrap();
    let newest: i64 = conn
        .query_row("SELECT MAX(id) FROM runs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(newest, 4);
    // Deleting a run still takes its jobs with it: the references survived.
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    conn.execute("DELETE FROM runs WHERE id = 2", []).unwrap();
    let jobs: i64 = conn
        .query_row("SELECT COUNT(*) FROM jobs", [], |row| row.get(0))
        .unwrap();
    assert_eq!(jobs, 0);
}
