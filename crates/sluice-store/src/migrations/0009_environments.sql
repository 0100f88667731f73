-- Migration 9: deployment environments: jobs that wait for approval,
-- the decisions people take, and what was deployed where.
--
-- `jobs` is rebuilt, as SQLite cannot change a CHECK in place: a job may
-- now be `waiting` (held by its environment's protection rules, holding
-- no job slot), and it keeps the environment it deploys to. This
-- migration runs with foreign keys off, so dropping the old table touches
-- no step.

CREATE TABLE jobs_new (
    run_id             INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key            TEXT    NOT NULL,
    job_id             TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    needs              TEXT    NOT NULL DEFAULT '[]',
    position           INTEGER NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN
                           ('pending', 'waiting', 'running', 'success', 'failure', 'cancelled',
                            'skipped', 'interrupted')),
    skip_reason        TEXT,
    started_at         INTEGER,
    finished_at        INTEGER,
    duration_ms        INTEGER,
    outputs            TEXT    NOT NULL DEFAULT '{}',
    -- The environment the job deploys to, once known (evaluated). Names
    -- compare without case, as GitHub's do.
    environment        TEXT COLLATE NOCASE,
    -- While it waits: the distinct approvals it needs (0: only a wait
    -- timer holds it), since when, and when it fails unless approved.
    required_approvals INTEGER NOT NULL DEFAULT 0,
    waiting_since      INTEGER,
    approval_deadline  INTEGER,
    PRIMARY KEY (run_id, job_key)
) WITHOUT ROWID;

INSERT INTO jobs_new (run_id, job_key, job_id, name, needs, position, status, skip_reason,
                      started_at, finished_at, duration_ms, outputs)
SELECT run_id, job_key, job_id, name, needs, position, status, skip_reason,
       started_at, finished_at, duration_ms, outputs
FROM jobs;

DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;

-- Decisions on a run's deployments to an environment (`sluice approve`,
-- `sluice reject`, the API). A waiting job counts those taken since it
-- began to wait.
CREATE TABLE environment_approvals (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    environment TEXT    NOT NULL COLLATE NOCASE,
    decision    TEXT    NOT NULL CHECK (decision IN ('approve', 'reject')),
    decided_by  TEXT    NOT NULL,
    comment     TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX environment_approvals_by_run ON environment_approvals (run_id, environment, at);

-- One row per job instance that deployed (or is deploying) a run's commit
-- to an environment. `previous_sha` is the commit of the environment's
-- latest successful deployment when this one started: with `sha`, the
-- range of commits it ships.
CREATE TABLE environment_deployments (
    id           INTEGER PRIMARY KEY,
    repository   TEXT    NOT NULL,
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key      TEXT    NOT NULL,
    environment  TEXT    NOT NULL COLLATE NOCASE,
    sha          TEXT    NOT NULL,
    previous_sha TEXT,
    url          TEXT,
    -- `running` until the job ends, then its result.
    status       TEXT    NOT NULL CHECK (status IN
                     ('running', 'success', 'failure', 'cancelled', 'skipped', 'interrupted')),
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    UNIQUE (run_id, job_key)
);
CREATE INDEX environment_deployments_by_environment
    ON environment_deployments (repository, environment, started_at);
