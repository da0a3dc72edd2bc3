-- The model registry (docs/models.md): ONNX files stored once by their SHA-256, numbered versions
-- per model with their signature, stage and uploader; the model row holds what answers
-- predictions (the production version and a canary beside it) and a generation every instance
-- watches, so a promotion on one is served by all within about a second (SQLite).

CREATE TABLE model_files (
    sha256 TEXT    PRIMARY KEY,
    bytes  BLOB    NOT NULL,
    size   INTEGER NOT NULL
);

CREATE TABLE models (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL UNIQUE,
    created_at     TEXT    NOT NULL,
    -- The staging version that answers `canary_percent` of the production requests.
    canary         INTEGER,
    canary_percent INTEGER NOT NULL DEFAULT 0 CHECK (canary_percent BETWEEN 0 AND 100),
    -- Goes up with every change to what answers (promotion, rollback, canary, archive).
    generation     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE model_versions (
    model_id     INTEGER NOT NULL REFERENCES models (id),
    version      INTEGER NOT NULL,
    sha256       TEXT    NOT NULL REFERENCES model_files (sha256),
    task         TEXT    NOT NULL,
    signature    TEXT    NOT NULL,   -- JSON, domain::models::Signature
    stage        TEXT    NOT NULL CHECK (stage IN ('staging', 'production', 'archived')),
    uploaded_by  INTEGER NOT NULL REFERENCES users (id),
    uploaded_via TEXT    NOT NULL,   -- page, command, or the API key's prefix
    uploaded_at  TEXT    NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    -- When it last stopped being production (what a rollback goes back to).
    retired_at   TEXT,
    PRIMARY KEY (model_id, version)
);
CREATE UNIQUE INDEX model_versions_one_production ON model_versions (model_id) WHERE stage = 'production';
