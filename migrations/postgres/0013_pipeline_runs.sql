-- Pipeline runs (docs/pipelines.md): which file (its name and SHA-256) ran, with which
-- parameters, who or what started it, and what each step did or why the run failed.

CREATE TABLE pipeline_runs (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pipeline    TEXT        NOT NULL,
    file_sha256 TEXT        NOT NULL,
    params      TEXT        NOT NULL,
    started_by  BIGINT      REFERENCES users (id),
    started_via TEXT        NOT NULL CHECK (started_via IN ('command', 'page', 'schedule')),
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    state       TEXT        NOT NULL CHECK (state IN ('running', 'succeeded', 'failed')),
    failed_step TEXT,
    reason      TEXT,
    steps       TEXT        NOT NULL DEFAULT '[]'
);
CREATE INDEX pipeline_runs_by_pipeline ON pipeline_runs (pipeline, id);
