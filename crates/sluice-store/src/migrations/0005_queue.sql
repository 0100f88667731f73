-- Migration 5: runs that wait (a queue in the runs table itself), what a
-- server needs to start them, concurrency groups, cancellation requests,
-- and the server's own records (API tokens, schedules fired,
-- notifications sent).
--
-- `runs` is rebuilt, as SQLite cannot change a CHECK or a NOT NULL in
-- place: a run may now be `queued` (numbered, not started: no start time,
-- and no owner while it waits for any server). This migration runs with
-- foreign keys off, so dropping the old table touches no child row.

CREATE TABLE runs_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    repository          TEXT    NOT NULL,
    number              INTEGER NOT NULL CHECK (number >= 1),
    workflow            TEXT    NOT NULL,
    workflow_path       TEXT    NOT NULL,
    event               TEXT    NOT NULL,
    git_ref             TEXT    NOT NULL,
    sha                 TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN
                          ('queued', 'running', 'success', 'failure', 'cancelled', 'skipped',
                           'interrupted')),
    -- When the run was asked for; equal to started_at for a run that
    -- never waited.
    queued_at           INTEGER NOT NULL,
    started_at          INTEGER,
    finished_at         INTEGER,
    duration_ms         INTEGER,
    exit_code           INTEGER,
    critical_path       TEXT    NOT NULL DEFAULT '[]',
    -- The process running the run, or waiting to (a `sluice run` queued
    -- behind its concurrency group). All NULL: queued for any server.
    owner_pid           INTEGER,
    owner_start_ticks   INTEGER,
    owner_boot_id       TEXT,
    owner_pid_namespace TEXT,
    -- JSON the server reads to start the run (again, for a re-run or after
    -- an interruption); opaque to the store. NULL for runs of `sluice run`.
    request             TEXT,
    -- The evaluated `concurrency.group` of the workflow, if it has one.
    concurrency_group   TEXT,
    cancel_in_progress  INTEGER NOT NULL DEFAULT 0,
    -- `queue: max`: waiting runs of the group line up instead of replacing
    -- each other.
    keep_waiting        INTEGER NOT NULL DEFAULT 0,
    -- Someone asked the run to stop; its owner polls this.
    cancel_requested    INTEGER NOT NULL DEFAULT 0,
    -- For an interrupted run queued again: the run that repeats it.
    requeued_as         INTEGER,
    UNIQUE (repository, number)
);

INSERT INTO runs_new (id, repository, number, workflow, workflow_path, event, git_ref, sha,
                      status, queued_at, started_at, finished_at, duration_ms, exit_code,
                      critical_path, owner_pid, owner_start_ticks, owner_boot_id,
                      owner_pid_namespace)
SELECT id, repository, number, workflow, workflow_path, event, git_ref, sha,
       status, started_at, started_at, finished_at, duration_ms, exit_code,
       critical_path, owner_pid, owner_start_ticks, owner_boot_id, owner_pid_namespace
FROM runs;

-- Ids are never reused, even those of deleted runs past the highest kept.
INSERT INTO sqlite_sequence (name, seq)
SELECT 'runs_new', seq FROM sqlite_sequence WHERE name = 'runs'
  AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'runs_new');
UPDATE sqlite_sequence
   SET seq = MAX(seq, (SELECT seq FROM sqlite_sequence WHERE name = 'runs'))
 WHERE name = 'runs_new' AND EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'runs');

DROP TABLE runs;
ALTER TABLE runs_new RENAME TO runs;

CREATE INDEX runs_by_queue_time ON runs (queued_at);
CREATE INDEX runs_by_status ON runs (status);
CREATE INDEX runs_by_group ON runs (repository, concurrency_group)
    WHERE concurrency_group IS NOT NULL;

-- Jobs with `concurrency:` and where they stand in their group: at most
-- one running and one pending per group (of a repository), across runs
-- and processes.
CREATE TABLE job_concurrency (
    run_id            INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key           TEXT    NOT NULL,
    repository        TEXT    NOT NULL,
    concurrency_group TEXT    NOT NULL,
    -- `replaced`: a newer pending job took its place; its run concludes it
    -- cancelled and removes the row.
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'running', 'replaced')),
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    since             INTEGER NOT NULL,
    PRIMARY KEY (run_id, job_key)
) WITHOUT ROWID;
CREATE INDEX job_concurrency_by_group ON job_concurrency (repository, concurrency_group);

-- API tokens: only a digest is kept; the token is shown once.
CREATE TABLE api_tokens (
    name         TEXT    PRIMARY KEY,
    -- Hex SHA-256 of the token.
    digest       TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
) WITHOUT ROWID;

-- The last minute each schedule fired for, so that a restart within the
-- minute does not fire it twice.
CREATE TABLE schedule_marks (
    repository    TEXT    NOT NULL,
    workflow_path TEXT    NOT NULL,
    cron          TEXT    NOT NULL,
    -- Milliseconds since the epoch of the minute (UTC, second 0).
    fired_minute  INTEGER NOT NULL,
    PRIMARY KEY (repository, workflow_path, cron)
) WITHOUT ROWID;

-- Webhook deliveries already taken (`X-GitHub-Delivery`), so that a
-- redelivered or replayed one queues nothing twice.
CREATE TABLE deliveries (
    delivery_id TEXT    PRIMARY KEY,
    received_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX deliveries_by_time ON deliveries (received_at);

-- Notifications sent about runs. The target is the entry's name and the
-- URL's origin only: webhook URLs carry credentials in their paths.
CREATE TABLE notifications (
    id            INTEGER PRIMARY KEY,
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    target        TEXT    NOT NULL,
    -- What it told: 'failure', 'fixed', 'success', 'cancelled', ...
    reason        TEXT    NOT NULL,
    attempts      INTEGER NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('delivered', 'failed')),
    http_status   INTEGER,
    error         TEXT,
    at            INTEGER NOT NULL
);
CREATE INDEX notifications_by_run ON notifications (run_id);
