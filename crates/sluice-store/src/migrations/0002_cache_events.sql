-- Cache lookups and saves, for `sluice cache stats` and `sluice cache why`,
-- and whether a step was restored from the cache instead of running.
ALTER TABLE steps ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;

CREATE TABLE cache_events (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key     TEXT    NOT NULL,
    step_index  INTEGER NOT NULL,
    -- 'lookup' or 'save'
    action      TEXT    NOT NULL,
    -- 'step' (a step's own cache) or 'key' (actions/cache)
    kind        TEXT    NOT NULL,
    cache_key   TEXT    NOT NULL,
    -- for lookups: 'hit', 'partial' or 'miss'; NULL for saves
    result      TEXT,
    matched_key TEXT,
    bytes       INTEGER NOT NULL,
    new_bytes   INTEGER,
    duration_ms INTEGER NOT NULL,
    saved_ms    INTEGER,
    at          INTEGER NOT NULL
);

CREATE INDEX cache_events_by_run ON cache_events (run_id);
