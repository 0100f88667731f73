-- Migration 7: coverage per step attempt, and the queues shards take
-- test items from.

-- The totals of a step attempt's coverage reports (merged), and of the
-- change when a diff gate measured it.
CREATE TABLE coverage_reports (
    id               INTEGER PRIMARY KEY,
    run_id           INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    job_key          TEXT    NOT NULL,
    step_index       INTEGER NOT NULL,
    attempt          INTEGER NOT NULL,
    -- JSON array of the report files read.
    files            TEXT    NOT NULL,
    lines_covered    INTEGER NOT NULL,
    lines_total      INTEGER NOT NULL,
    branches_covered INTEGER NOT NULL,
    branches_total   INTEGER NOT NULL,
    diff_base        TEXT,
    diff_covered     INTEGER,
    diff_total       INTEGER,
    at               INTEGER NOT NULL
);
CREATE INDEX coverage_reports_by_run ON coverage_reports (run_id);

-- Per file: totals, and the lines covered and not as ranges (`1-5,7`),
-- so that a change can be measured against a run later.
CREATE TABLE coverage_files (
    report_id        INTEGER NOT NULL REFERENCES coverage_reports (id) ON DELETE CASCADE,
    path             TEXT    NOT NULL,
    lines_covered    INTEGER NOT NULL,
    lines_total      INTEGER NOT NULL,
    branches_covered INTEGER NOT NULL,
    branches_total   INTEGER NOT NULL,
    covered          TEXT    NOT NULL,
    uncovered        TEXT    NOT NULL,
    PRIMARY KEY (report_id, path)
);

-- Items handed to the shards of a run one batch at a time, longest first.
-- `holder` is the tracking id of the step that took an item; a taken item
-- whose holder has no process left goes back to waiting.
CREATE TABLE shard_queue (
    queue        TEXT    NOT NULL,
    item         TEXT    NOT NULL,
    position     INTEGER NOT NULL,
    predicted_ms INTEGER NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('waiting', 'taken', 'done')),
    holder       TEXT,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (queue, item)
);
CREATE INDEX shard_queue_by_state ON shard_queue (queue, state, position);
