-- Pipelines stored by name (docs/pipelines.md): every saved text is a numbered version with who
-- saved it and when; a run records the version it ran (NULL for a file run from disk); schedules
-- and the scheduled times each instance claims (SQLite).

CREATE TABLE pipelines (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    version    INTEGER NOT NULL,
    created_at TEXT    NOT NULL
);

CREATE TABLE pipeline_versions (
    pipeline_id INTEGER NOT NULL REFERENCES pipelines (id),
    version     INTEGER NOT NULL,
    text        TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    saved_by    INTEGER NOT NULL REFERENCES users (id),
    saved_at    TEXT    NOT NULL,
    note        TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (pipeline_id, version)
);

ALTER TABLE pipeline_runs ADD COLUMN version INTEGER;

-- A stored pipeline's schedule: a five-field cron expression in the company's time zone, the
-- parameters its runs get, and how many times a failed run is tried again.
CREATE TABLE pipeline_schedules (
    pipeline_id INTEGER     PRIMARY KEY REFERENCES pipelines (id),
    cron        TEXT        NOT NULL,
    params      TEXT        NOT NULL DEFAULT '{}',
    retries     INTEGER     NOT NULL DEFAULT 2,
    set_by      INTEGER     NOT NULL REFERENCES users (id),
    set_at      BIGINT      NOT NULL
);

-- Each scheduled time of a pipeline, claimed by the one instance that runs it: the primary key
-- makes the first claim exactly-once however many instances share the database, and the lease
-- lets another instance take over a run whose instance stopped. Times in Unix seconds.
CREATE TABLE pipeline_slots (
    pipeline_id INTEGER     NOT NULL REFERENCES pipelines (id),
    due_at      BIGINT      NOT NULL,
    claimed_by  TEXT        NOT NULL,
    lease_until BIGINT      NOT NULL,
    attempts    INTEGER     NOT NULL,
    state       TEXT        NOT NULL CHECK (state IN ('running', 'waiting', 'succeeded', 'failed')),
    next_try_at BIGINT,
    run_id      INTEGER     REFERENCES pipeline_runs (id),
    PRIMARY KEY (pipeline_id, due_at)
);
