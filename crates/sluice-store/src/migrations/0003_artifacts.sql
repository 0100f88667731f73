-- Artifacts uploaded by runs (actions/upload-artifact). The files are in
-- the content-addressed cache under the entry `cache_kind`/`cache_id`;
-- this table is what `sluice artifacts ls` and `get` look up.
CREATE TABLE artifacts (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name        TEXT    NOT NULL,
    job_key     TEXT    NOT NULL,
    step_index  INTEGER NOT NULL,
    cache_kind  TEXT    NOT NULL,
    cache_id    TEXT    NOT NULL,
    files       INTEGER NOT NULL,
    bytes       INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    UNIQUE (run_id, name)
);
