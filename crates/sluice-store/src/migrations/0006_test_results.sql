-- Migration 6: test results, per test across runs.

-- Each test once per repository: suite, class, name and file ('' when the
-- report names none). Results refer to it, so a million results do not
-- repeat the names a million times.
CREATE TABLE tests (
    id          INTEGER PRIMARY KEY,
    repository  TEXT    NOT NULL,
    suite       TEXT    NOT NULL,
    classname   TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    file        TEXT    NOT NULL DEFAULT '',
    UNIQUE (repository, suite, classname, name, file)
);

-- One row per test per step attempt that read reports.
CREATE TABLE test_results (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    test_id     INTEGER NOT NULL REFERENCES tests (id),
    job_key     TEXT    NOT NULL,
    step_index  INTEGER NOT NULL,
    -- 1 for the step's first attempt, 2 for its first retry...
    attempt     INTEGER NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN
                    ('passed', 'skipped', 'flaky', 'failed', 'error')),
    duration_ms INTEGER NOT NULL,
    -- How many times the report had it run (a runner's own retries).
    repeats     INTEGER NOT NULL,
    -- The first line of the failure's message, when it failed.
    message     TEXT,
    -- The commit tree the tests ran on, when the workspace was exactly it.
    tree        TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX test_results_by_test ON test_results (test_id, run_id);
CREATE INDEX test_results_by_run ON test_results (run_id);

-- The counts of each report read (a step attempt's), and its files.
CREATE TABLE test_reports (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key     TEXT    NOT NULL,
    step_index  INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    -- JSON array of the files read.
    files       TEXT    NOT NULL,
    tests       INTEGER NOT NULL,
    passed      INTEGER NOT NULL,
    failed      INTEGER NOT NULL,
    errors      INTEGER NOT NULL,
    skipped     INTEGER NOT NULL,
    flaky       INTEGER NOT NULL,
    time_ms     INTEGER NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX test_reports_by_run ON test_reports (run_id);
