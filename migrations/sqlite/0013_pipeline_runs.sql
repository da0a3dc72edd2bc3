-- Pipeline runs (docs/pipelines.md): which file (its name and SHA-256) ran, with which
-- parameters, who or what started it, and what each step did or why the run failed (SQLite).

CREATE TABLE pipeline_runs (
    id          INTEGER PRIMARY KEY,
    pipeline    TEXT    NOT NULL,
    file_sha256 TEXT    NOT NULL,
    params      TEXT    NOT NULL,
    started_by  INTEGER REFERENCES users (id),
    started_via TEXT    NOT NULL CHECK (started_via IN ('command', 'page', 'schedule')),
    started_at  TEXT    NOT NULL,
    finished_at TEXT,
    state       TEXT    NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
    failed_step TEXT,
    reason      TEXT,
    steps       TEXT    NOT NULL DEFAULT '[]'
);
CREATE INDEX pipeline_runs_by_pipeline ON pipeline_runs (pipeline, id);
