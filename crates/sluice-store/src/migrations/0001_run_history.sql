-- Migration 1: run history.
--
-- Timestamps (`*_at`) are milliseconds since the Unix epoch; durations are
-- milliseconds. Statuses are lower-case words (see status.rs); the CHECKs
-- keep a bug from writing anything else.

-- One row per run. `number` counts runs per repository (1, 2, 3...); `id`
-- is the global key everything else refers to (and names the spool
-- directory; AUTOINCREMENT so that an id is never reused, even after runs
-- are deleted). The owner columns identify the process recording the run, so
-- that a later process can tell a live run from one whose recorder died.
CREATE TABLE runs (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    repository          TEXT    NOT NULL,
    number              INTEGER NOT NULL CHECK (number >= 1),
    workflow            TEXT    NOT NULL,
    workflow_path       TEXT    NOT NULL,
    event               TEXT    NOT NULL,
    git_ref             TEXT    NOT NULL,
    sha                 TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN
                          ('running', 'success', 'failure', 'cancelled', 'skipped', 'interrupted')),
    started_at          INTEGER NOT NULL,
    finished_at         INTEGER,
    duration_ms         INTEGER,
    -- The exit code of the CLI process that ran it, when it reported one.
    exit_code           INTEGER,
    -- JSON array of job keys.
    critical_path       TEXT    NOT NULL DEFAULT '[]',
    owner_pid           INTEGER NOT NULL,
    -- Start time of the owner in clock ticks after boot (/proc/<pid>/stat
    -- field 22): tells the owner apart from a later process reusing its pid.
    owner_start_ticks   INTEGER,
    -- /proc/sys/kernel/random/boot_id: pids and ticks restart at boot.
    owner_boot_id       TEXT,
    -- /proc/self/ns/pid: a pid means nothing outside its namespace.
    owner_pid_namespace TEXT,
    UNIQUE (repository, number)
);
CREATE INDEX runs_by_start ON runs (started_at);
CREATE INDEX runs_by_status ON runs (status);

-- One row per job instance. `position` keeps the order the run announced.
CREATE TABLE jobs (
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key     TEXT    NOT NULL,
    job_id      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    -- JSON array of job keys.
    needs       TEXT    NOT NULL DEFAULT '[]',
    position    INTEGER NOT NULL,
    status      TEXT    NOT NULL CHECK (status IN
                    ('pending', 'running', 'success', 'failure', 'cancelled', 'skipped', 'interrupted')),
    skip_reason TEXT,
    started_at  INTEGER,
    finished_at INTEGER,
    duration_ms INTEGER,
    -- JSON object of output name to value, in the job's order.
    outputs     TEXT    NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, job_key)
) WITHOUT ROWID;

CREATE TABLE steps (
    run_id      INTEGER NOT NULL,
    job_key     TEXT    NOT NULL,
    step_index  INTEGER NOT NULL CHECK (step_index >= 0),
    step_id     TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    -- `running` until finished, then the conclusion.
    status      TEXT    NOT NULL CHECK (status IN
                    ('running', 'success', 'failure', 'cancelled', 'skipped', 'interrupted')),
    outcome     TEXT CHECK (outcome IN ('success', 'failure', 'cancelled', 'skipped')),
    conclusion  TEXT CHECK (conclusion IN ('success', 'failure', 'cancelled', 'skipped')),
    exit_code   INTEGER,
    started_at  INTEGER,
    finished_at INTEGER,
    duration_ms INTEGER,
    PRIMARY KEY (run_id, job_key, step_index),
    FOREIGN KEY (run_id, job_key) REFERENCES jobs (run_id, job_key) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE annotations (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key    TEXT    NOT NULL,
    step_index INTEGER,
    level      TEXT    NOT NULL CHECK (level IN ('error', 'warning', 'notice')),
    message    TEXT    NOT NULL,
    file       TEXT,
    line       INTEGER,
    col        INTEGER,
    title      TEXT,
    at         INTEGER NOT NULL
);
CREATE INDEX annotations_by_run ON annotations (run_id);

-- The Markdown steps wrote to GITHUB_STEP_SUMMARY, in the order written.
CREATE TABLE step_summaries (
    id         INTEGER PRIMARY KEY,
    run_id     INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key    TEXT    NOT NULL,
    step_index INTEGER NOT NULL,
    markdown   TEXT    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX step_summaries_by_run ON step_summaries (run_id);

-- Log lines, compressed, in chunks: normally one chunk per (job, step), and
-- per job for the job-level lines (step_index NULL); more when lines
-- arrive after their step was stored. Each chunk is one imported spool file,
-- named by `spool_name`, which makes importing a file twice (a crash between
-- commit and deleting the file) a no-op.
CREATE TABLE logs (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key     TEXT    NOT NULL,
    step_index  INTEGER,
    spool_name  TEXT    NOT NULL,
    -- Encoding of `data`: 1 = zstd over the record format of log_record.rs.
    format      INTEGER NOT NULL,
    line_count  INTEGER NOT NULL,
    -- Uncompressed size of the records.
    byte_count  INTEGER NOT NULL,
    first_at    INTEGER,
    last_at     INTEGER,
    data        BLOB    NOT NULL,
    UNIQUE (run_id, spool_name)
);
CREATE INDEX logs_by_job ON logs (run_id, job_key, step_index);
