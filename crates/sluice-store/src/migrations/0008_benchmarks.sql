-- Migration 8: benchmark results per metric and machine.

-- The machines results were measured on: results of different testbeds
-- are never compared.
CREATE TABLE testbeds (
    id          INTEGER PRIMARY KEY,
    machine_id  TEXT    NOT NULL,
    cpu_model   TEXT    NOT NULL,
    cores       INTEGER NOT NULL,
    UNIQUE (machine_id, cpu_model, cores)
);

-- One row per metric (benchmark and measure) per step attempt, or per
-- imported file (run_id NULL, with the branch and commit it was for).
CREATE TABLE perf_results (
    id               INTEGER PRIMARY KEY,
    repository       TEXT    NOT NULL,
    run_id           INTEGER REFERENCES runs (id) ON DELETE CASCADE,
    job_key          TEXT,
    step_index       INTEGER,
    git_ref          TEXT    NOT NULL,
    sha              TEXT    NOT NULL,
    testbed_id       INTEGER NOT NULL REFERENCES testbeds (id),
    benchmark        TEXT    NOT NULL,
    measure          TEXT    NOT NULL,
    unit             TEXT    NOT NULL,
    bigger_is_better INTEGER NOT NULL,
    -- The run's value (its repetitions' median), and every repetition (JSON).
    value            REAL    NOT NULL,
    repetitions      TEXT    NOT NULL,
    -- The verdict given when it was judged (NULL for imports).
    verdict          TEXT,
    baseline         REAL,
    change           REAL,
    at               INTEGER NOT NULL
);
CREATE INDEX perf_results_series ON perf_results (repository, benchmark, measure, testbed_id, git_ref, at);
CREATE INDEX perf_results_by_run ON perf_results (run_id);
