-- Auto-ingest watches (docs/ingest.md): a folder in the data directory or an S3 prefix, polled
-- every `every_secs`, each new file loaded into `target_table` of a SQLite file (in the data
-- directory) or a PostgreSQL database (its URL in an environment variable). The load history is
-- kept in the target database beside the rows (`mcms_load_history`), so a file's rows and its
-- history row commit together. One instance runs a watch at a time: it holds the lease
-- (`runner`, `lease_until`, Unix seconds) and renews it at every poll.

CREATE TABLE ingest_watches (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL UNIQUE,
    location     TEXT    NOT NULL,
    -- sqlite or postgres; `target` is the SQLite file's path or the URL's environment variable.
    target_kind  TEXT    NOT NULL CHECK (target_kind IN ('sqlite', 'postgres')),
    target       TEXT    NOT NULL,
    target_table TEXT    NOT NULL,
    -- append (format may name csv, jsonl or parquet) or cdc (keys: comma-separated columns).
    mode         TEXT    NOT NULL CHECK (mode IN ('append', 'cdc')),
    format       TEXT,
    keys         TEXT    NOT NULL DEFAULT '',
    every_secs   REAL    NOT NULL CHECK (every_secs >= 1),
    running      INTEGER NOT NULL DEFAULT 1,
    created_by   INTEGER NOT NULL REFERENCES users (id),
    created_at   TEXT    NOT NULL,
    runner       TEXT,
    lease_until  INTEGER,
    -- The last poll that failed as a whole (the location or the database unreachable), or NULL.
    last_error   TEXT,
    polled_at    INTEGER
);
