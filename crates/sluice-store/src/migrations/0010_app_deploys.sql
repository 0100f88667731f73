-- Migration 10: deploys of apps (`sluice deploy`), for `sluice deploys`
-- and the DORA figures. An app's deploys outlive the runs that made them:
-- run_id is kept as a plain number, not a reference.

CREATE TABLE app_deploys (
    id                   INTEGER PRIMARY KEY,
    app                  TEXT    NOT NULL,
    -- deploy | rollback
    kind                 TEXT    NOT NULL,
    version              TEXT    NOT NULL,
    colour               TEXT    NOT NULL,
    previous_version     TEXT,
    commit_sha           TEXT,
    -- succeeded | inconclusive | failed | rolled-back | rolled-back-by-hand
    outcome              TEXT    NOT NULL,
    reason               TEXT,
    -- Milliseconds since the epoch, or durations in milliseconds.
    started_at           INTEGER NOT NULL,
    ready_ms             INTEGER,
    switched_at          INTEGER,
    finished_at          INTEGER NOT NULL,
    restored_at          INTEGER,
    breach_to_restore_ms INTEGER,
    watch_requests       INTEGER,
    watch_errors         INTEGER,
    watch_p95_ms         REAL,
    watch_verdict        TEXT,
    drained              INTEGER,
    run_id               INTEGER,
    -- The shipped commits' times (JSON list of milliseconds).
    commit_times         TEXT    NOT NULL DEFAULT '[]'
);

CREATE INDEX app_deploys_by_app ON app_deploys (app, started_at);
