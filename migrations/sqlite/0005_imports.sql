-- Bulk imports. A file becomes a draft (its cells, as uploaded and as fixed in the grid), then a
-- batch: every entry of a batch lands in one transaction, or none does.

CREATE TABLE import_batches (
    id              INTEGER PRIMARY KEY,
    file_name       TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,   -- SHA-256 of the file's bytes, hex
    source          TEXT    NOT NULL,   -- web, cli
    row_count       INTEGER NOT NULL,
    totals          TEXT    NOT NULL,   -- JSON [[currency, minor units], ...]
    reporting_minor INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    created_by      INTEGER NOT NULL REFERENCES users (id),
    rolled_back_at  TEXT,
    rolled_back_by  INTEGER REFERENCES users (id)
);
-- The same content cannot be imported twice while its batch stands.
CREATE UNIQUE INDEX import_batches_content ON import_batches (content_hash) WHERE rolled_back_at IS NULL;

ALTER TABLE cost_entries ADD COLUMN batch_id INTEGER REFERENCES import_batches (id);
CREATE INDEX cost_entries_batch ON cost_entries (batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE import_drafts (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL REFERENCES users (id),
    file_name    TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    encoding     TEXT    NOT NULL,
    headers      TEXT    NOT NULL,   -- JSON [header, ...]
    mapping      TEXT    NOT NULL,   -- JSON [column or null, ...], one per header
    cells        TEXT    NOT NULL,   -- JSON [[cell, ...], ...], one per data row
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

-- A vendor's column mapping, by header (as compared: lower case, letters and digits).
CREATE TABLE import_mappings (
    vendor     TEXT    PRIMARY KEY REFERENCES vendors (code),
    mapping    TEXT    NOT NULL,   -- JSON {header key: column}
    updated_at TEXT NOT NULL,
    updated_by INTEGER NOT NULL REFERENCES users (id)
);
