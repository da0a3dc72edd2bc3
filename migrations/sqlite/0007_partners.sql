-- The partner data API: partners, their API keys (stored only as SHA-256), IP allowlists,
-- the statistics they read, and how they use the API (SQLite).

CREATE TABLE partners (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    contact    TEXT    NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT TRUE,   -- FALSE: suspended, every key refused
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL
);
-- What a partner may see: these games, for these channels (its own).
CREATE TABLE partner_games (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    game       TEXT    NOT NULL REFERENCES games (code),
    PRIMARY KEY (partner_id, game)
);
CREATE TABLE partner_channels (
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    channel    TEXT    NOT NULL REFERENCES channels (code),
    PRIMARY KEY (partner_id, channel)
);

CREATE TABLE api_keys (
    id             INTEGER PRIMARY KEY,
    partner_id     INTEGER NOT NULL REFERENCES partners (id),
    label          TEXT    NOT NULL,
    prefix         TEXT    NOT NULL UNIQUE,   -- mcms_ + the key's id: finds the key, shown in the console
    hash           TEXT    NOT NULL,          -- SHA-256 of the whole key, hex
    scopes         TEXT    NOT NULL,          -- space-separated
    rate_per_minute INTEGER NOT NULL CHECK (rate_per_minute > 0),
    daily_quota    INTEGER CHECK (daily_quota > 0),
    expires_at     TEXT,
    revoked_at     TEXT,
    replaced_by    INTEGER REFERENCES api_keys (id),   -- set by rotation; expires_at is then the grace's end
    last_used_at   TEXT,
    created_at     TEXT    NOT NULL,
    created_by     INTEGER NOT NULL REFERENCES users (id)
);
CREATE INDEX api_keys_partner ON api_keys (partner_id, id);

-- Addresses a partner's keys may be used from (key_id NULL: all its keys), single addresses as
-- /32 or /128. Both lists apply when both exist.
CREATE TABLE api_allowlist (
    id         INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners (id),
    key_id     INTEGER REFERENCES api_keys (id),
    cidr       TEXT    NOT NULL
);
CREATE INDEX api_allowlist_partner ON api_allowlist (partner_id, key_id);

-- Daily game statistics per acquisition channel, as partners read them.
CREATE TABLE partner_stats (
    game          TEXT    NOT NULL REFERENCES games (code),
    channel       TEXT    NOT NULL REFERENCES channels (code),
    day           TEXT    NOT NULL,
    new_users     INTEGER NOT NULL CHECK (new_users >= 0),
    daily_active  INTEGER NOT NULL CHECK (daily_active >= 0),
    paying_users  INTEGER NOT NULL CHECK (paying_users >= 0),
    revenue_minor INTEGER NOT NULL CHECK (revenue_minor >= 0),
    currency      TEXT    NOT NULL REFERENCES currencies (code),
    PRIMARY KEY (game, channel, day)
);

-- Requests per day, key, status and latency bucket (bucket b: under 2^b microseconds).
CREATE TABLE api_usage (
    day      TEXT    NOT NULL,
    key_id   INTEGER NOT NULL REFERENCES api_keys (id),
    status   INTEGER NOT NULL,
    bucket   INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (day, key_id, status, bucket)
);
