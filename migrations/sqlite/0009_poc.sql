-- The data-warehouse proof of concept: the PoC, its candidate systems and scenarios, and every
-- recorded ingestion run with its parameters, measurements and who ran it (SQLite).

CREATE TABLE pocs (
    id         INTEGER PRIMARY KEY,
    title      TEXT    NOT NULL,
    goal       TEXT    NOT NULL,
    status     TEXT    NOT NULL CHECK (status IN ('planned', 'running', 'decided')),
    decision   TEXT    NOT NULL DEFAULT '',
    updated_at TEXT    NOT NULL
);
CREATE TABLE poc_systems (
    poc_id        INTEGER NOT NULL REFERENCES pocs (id),
    name          TEXT    NOT NULL,
    edition       TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    configuration TEXT    NOT NULL,
    PRIMARY KEY (poc_id, name)
);
CREATE TABLE poc_scenarios (
    poc_id INTEGER NOT NULL REFERENCES pocs (id),
    name   TEXT    NOT NULL,
    kind   TEXT    NOT NULL CHECK (kind IN ('batch_load', 'near_real_time', 'data_sharing', 'connector')),
    method TEXT    NOT NULL,
    PRIMARY KEY (poc_id, name)
);
CREATE TABLE poc_runs (
    id             INTEGER PRIMARY KEY,
    poc_id         INTEGER NOT NULL,
    system         TEXT    NOT NULL,
    scenario       TEXT    NOT NULL,
    format         TEXT    NOT NULL,
    compression    TEXT    NOT NULL,
    file_count     INTEGER NOT NULL CHECK (file_count > 0),
    file_size_mb   INTEGER NOT NULL CHECK (file_size_mb >= 0),
    total_bytes    INTEGER NOT NULL CHECK (total_bytes >= 0),
    row_count      INTEGER NOT NULL CHECK (row_count >= 0),
    load_seconds   REAL,              -- NULL: the run failed (error says why)
    latency_p50_ms REAL,
    latency_p95_ms REAL,
    credits        REAL,
    cost_cents     INTEGER,           -- US cents
    error          TEXT,
    run_date       TEXT    NOT NULL,
    system_version TEXT    NOT NULL,
    run_by         TEXT    NOT NULL,
    notes          TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    created_by     INTEGER NOT NULL REFERENCES users (id),
    FOREIGN KEY (poc_id, system) REFERENCES poc_systems (poc_id, name),
    FOREIGN KEY (poc_id, scenario) REFERENCES poc_scenarios (poc_id, name),
    CHECK ((load_seconds IS NULL) <> (error IS NULL))
);
CREATE INDEX poc_runs_poc ON poc_runs (poc_id, scenario, format, compression);

-- Tokens scripts record runs with (only their SHA-256 is kept), issued by admins.
CREATE TABLE poc_tokens (
    id         INTEGER PRIMARY KEY,
    poc_id     INTEGER NOT NULL REFERENCES pocs (id),
    prefix     TEXT    NOT NULL UNIQUE,
    hash       TEXT    NOT NULL,
    label      TEXT    NOT NULL,
    revoked_at TEXT,
    created_at TEXT    NOT NULL,
    created_by INTEGER NOT NULL REFERENCES users (id)
);
