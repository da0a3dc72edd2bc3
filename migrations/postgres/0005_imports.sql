-- Bulk imports. A file becomes a draft (its cells, as uploaded and as fixed in the grid), then a
-- batch: every entry of a batch lands in one transaction, or none does.

CREATE TABLE import_batches (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    file_name       TEXT    NOT NULL,
    content_hash    TEXT    NOT NULL,   -- SHA-256 of the file's bytes, hex
    source          TEXT    NOT NULL,   -- web, cli
    row_count       BIGINT NOT NULL,
    totals          TEXT    NOT NULL,   -- JSON [[currency, minor units], ...]
    reporting_minor BIGINT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    created_by      BIGINT NOT NULL REFERENCES users (id),
    rolled_back_at  TIMESTAMPTZ,
    rolled_back_by  BIGINT REFERENCES users (id)
);
-- The same content cannot be imported twice while its batch stands.
CREATE UNIQUE INDEX import_batches_content ON import_batches (content_hash) WHERE rolled_back_at IS NULL;

ALTER TABLE cost_entries ADD COLUMN batch_id BIGINT REFERENCES import_batches (id);
CREATE INDEX cost_entries_batch ON cost_entries (batch_id) WHERE batch_id IS NOT NULL;

CREATE TABLE import_drafts (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id     BIGINT NOT NULL REFERENCES users (id),
    file_name    TEXT    NOT NULL,
    content_hash TEXT    NOT NULL,
    encoding     TEXT    NOT NULL,
    headers      TEXT    NOT NULL,   -- JSON [header, ...]
    mapping      TEXT    NOT NULL,   -- JSON [column or null, ...], one per header
    cells        TEXT    NOT NULL,   -- JSON [[cell, ...], ...], one per data row
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- A vendor's column mapping, by header (as compared: lower case, letters and digits).
CREATE TABLE import_mappings (
    vendor     TEXT    PRIMARY KEY REFERENCES vendors (code),
    mapping    TEXT    NOT NULL,   -- JSON {header key: column}
    updated_at TIMESTAMPTZ NOT NULL,
    updated_by BIGINT NOT NULL REFERENCES users (id)
);
