-- Pipelines stored by name (docs/pipelines.md): every saved text is a numbered version with who
-- saved it and when; a run records the version it ran (NULL for a file run from disk).

CREATE TABLE pipelines (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT        NOT NULL UNIQUE,
    version    INTEGER     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE pipeline_versions (
    pipeline_id BIGINT      NOT NULL REFERENCES pipelines (id),
    version     INTEGER     NOT NULL,
    text        TEXT        NOT NULL,
    sha256      TEXT        NOT NULL,
    saved_by    BIGINT      NOT NULL REFERENCES users (id),
    saved_at    TIMESTAMPTZ NOT NULL,
    note        TEXT        NOT NULL DEFAULT '',
    PRIMARY KEY (pipeline_id, version)
);

ALTER TABLE pipeline_runs ADD COLUMN version INTEGER;
