-- The model registry (docs/models.md): ONNX files stored once by their SHA-256, numbered versions
-- per model with their signature, stage and uploader; the model row holds what answers
-- predictions (the production version and a canary beside it) and a generation every instance
-- watches, so a promotion on one is served by all within about a second.

CREATE TABLE model_files (
    sha256 TEXT   PRIMARY KEY,
    bytes  BYTEA  NOT NULL,
    size   BIGINT NOT NULL
);

CREATE TABLE models (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           TEXT        NOT NULL UNIQUE,
    created_at     TIMESTAMPTZ NOT NULL,
    -- The staging version that answers `canary_percent` of the production requests.
    canary         INTEGER,
    canary_percent INTEGER     NOT NULL DEFAULT 0 CHECK (canary_percent BETWEEN 0 AND 100),
    -- Goes up with every change to what answers (promotion, rollback, canary, archive).
    generation     BIGINT      NOT NULL DEFAULT 0
);

CREATE TABLE model_versions (
    model_id     BIGINT      NOT NULL REFERENCES models (id),
    version      INTEGER     NOT NULL,
    sha256       TEXT        NOT NULL REFERENCES model_files (sha256),
    task         TEXT        NOT NULL,
    signature    TEXT        NOT NULL,   -- JSON, domain::models::Signature
    stage        TEXT        NOT NULL CHECK (stage IN ('staging', 'production', 'archived')),
    uploaded_by  BIGINT      NOT NULL REFERENCES users (id),
    uploaded_via TEXT        NOT NULL,   -- page, command, or the API key's prefix
    uploaded_at  TIMESTAMPTZ NOT NULL,
    note         TEXT        NOT NULL DEFAULT '',
    -- When it last stopped being production (what a rollback goes back to).
    retired_at   TIMESTAMPTZ,
    PRIMARY KEY (model_id, version)
);
CREATE UNIQUE INDEX model_versions_one_production ON model_versions (model_id) WHERE stage = 'production';
