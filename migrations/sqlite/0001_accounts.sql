-- Accounts and sign-in throttling (SQLite).
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('viewer', 'marketer', 'admin')),
    password_hash TEXT    NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

-- One row per failed sign-in, keyed by account ("acct:<email>") and by client ("addr:<ip>").
CREATE TABLE login_failures (
    key       TEXT    NOT NULL,
    failed_at INTEGER NOT NULL
);
CREATE INDEX login_failures_key_time ON login_failures (key, failed_at);
