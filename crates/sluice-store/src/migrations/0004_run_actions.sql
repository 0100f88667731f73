-- The remote actions and reusable workflows a run used, and the commit
-- each ran at (a tag may move between runs; this is what ran).
CREATE TABLE run_actions (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key     TEXT    NOT NULL,
    step_index  INTEGER,
    uses        TEXT    NOT NULL,
    commit_sha  TEXT    NOT NULL,
    origin      TEXT    NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX run_actions_by_run ON run_actions (run_id);
