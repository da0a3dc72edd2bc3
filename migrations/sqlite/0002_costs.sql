-- The cost ledger: master data, exchange rates, periods, entries, budgets and the audit trail (SQLite).

CREATE TABLE games      (code TEXT PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE channels   (code TEXT PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE vendors    (code TEXT PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE countries  (code TEXT PRIMARY KEY CHECK (length(code) = 2), name TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE currencies (code TEXT PRIMARY KEY CHECK (length(code) = 3), minor_units INTEGER NOT NULL CHECK (minor_units BETWEEN 0 AND 4),
                         active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE cost_types (code TEXT PRIMARY KEY, name TEXT NOT NULL, unit_priced BOOLEAN NOT NULL,
                         -- usual cost per 1,000 units, minor units of the reporting currency
                         band_min_per_mille INTEGER, band_max_per_mille INTEGER,
                         active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE campaigns (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    game         TEXT NOT NULL REFERENCES games (code),
    channel      TEXT NOT NULL REFERENCES channels (code),
    flight_start TEXT NOT NULL,
    flight_end   TEXT NOT NULL CHECK (flight_end >= flight_start),
    owner_id     INTEGER REFERENCES users (id),
    active       BOOLEAN NOT NULL DEFAULT TRUE
);

-- One major unit of `currency` is worth micros / 1,000,000 major units of the reporting currency.
CREATE TABLE fx_rates (
    currency  TEXT    NOT NULL REFERENCES currencies (code),
    rate_date TEXT    NOT NULL,
    micros    INTEGER NOT NULL CHECK (micros > 0),
    source    TEXT    NOT NULL,
    PRIMARY KEY (currency, rate_date)
);

CREATE TABLE closed_periods (
    month     TEXT    PRIMARY KEY,   -- YYYY-MM
    closed_at TEXT    NOT NULL,
    closed_by INTEGER NOT NULL REFERENCES users (id)
);

CREATE TABLE cost_entries (
    id                 INTEGER PRIMARY KEY,
    entry_date         TEXT    NOT NULL,
    game               TEXT    NOT NULL REFERENCES games (code),
    channel            TEXT    NOT NULL REFERENCES channels (code),
    campaign           TEXT    NOT NULL REFERENCES campaigns (code),
    country            TEXT    NOT NULL REFERENCES countries (code),
    vendor             TEXT    NOT NULL REFERENCES vendors (code),
    cost_type          TEXT    NOT NULL REFERENCES cost_types (code),
    currency           TEXT    NOT NULL REFERENCES currencies (code),
    amount_minor       INTEGER NOT NULL,
    units              INTEGER,
    invoice_number     TEXT    NOT NULL DEFAULT '',
    invoice_key        TEXT    NOT NULL DEFAULT '',
    memo               TEXT    NOT NULL DEFAULT '',
    vat_included       BOOLEAN NOT NULL DEFAULT FALSE,
    corrects           INTEGER REFERENCES cost_entries (id),
    reporting_currency TEXT    NOT NULL,
    reporting_minor    INTEGER NOT NULL,
    fx_micros          INTEGER,
    fx_date            TEXT,
    fx_source          TEXT,
    natural_key        TEXT    NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         TEXT    NOT NULL,
    created_by         INTEGER NOT NULL REFERENCES users (id),
    updated_at         TEXT    NOT NULL,
    updated_by         INTEGER NOT NULL REFERENCES users (id),
    deleted_at         TEXT,
    deleted_by         INTEGER REFERENCES users (id)
);
-- The warehouse's key and the vendor's invoice are unique among live entries.
CREATE UNIQUE INDEX cost_entries_natural_key ON cost_entries (natural_key) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX cost_entries_invoice ON cost_entries (vendor, invoice_key) WHERE deleted_at IS NULL AND invoice_key <> '';
-- Newest first, keyset-paginated.
CREATE INDEX cost_entries_date_id ON cost_entries (entry_date DESC, id DESC);
CREATE INDEX cost_entries_campaign_date ON cost_entries (campaign, entry_date);

CREATE TABLE budgets (
    campaign     TEXT    NOT NULL REFERENCES campaigns (code),
    month        TEXT    NOT NULL,   -- YYYY-MM
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),   -- reporting currency
    PRIMARY KEY (campaign, month)
);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT    NOT NULL,
    actor_id  INTEGER NOT NULL REFERENCES users (id),
    action    TEXT    NOT NULL,
    entity    TEXT    NOT NULL,
    entity_id TEXT    NOT NULL,
    before    TEXT,   -- JSON
    after     TEXT,   -- JSON
    reason    TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
