-- The cost ledger: master data, exchange rates, periods, entries, budgets and the audit trail (PostgreSQL).

CREATE TABLE games      (code TEXT PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE channels   (code TEXT PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE vendors    (code TEXT PRIMARY KEY, name TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE countries  (code TEXT PRIMARY KEY CHECK (length(code) = 2), name TEXT NOT NULL, active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE currencies (code TEXT PRIMARY KEY CHECK (length(code) = 3), minor_units INTEGER NOT NULL CHECK (minor_units BETWEEN 0 AND 4),
                         active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE cost_types (code TEXT PRIMARY KEY, name TEXT NOT NULL, unit_priced BOOLEAN NOT NULL,
                         -- usual cost per 1,000 units, minor units of the reporting currency
                         band_min_per_mille BIGINT, band_max_per_mille BIGINT,
                         active BOOLEAN NOT NULL DEFAULT TRUE);
CREATE TABLE campaigns (
    code         TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    game         TEXT NOT NULL REFERENCES games (code),
    channel      TEXT NOT NULL REFERENCES channels (code),
    flight_start DATE NOT NULL,
    flight_end   DATE NOT NULL CHECK (flight_end >= flight_start),
    owner_id     BIGINT REFERENCES users (id),
    active       BOOLEAN NOT NULL DEFAULT TRUE
);

-- One major unit of `currency` is worth micros / 1,000,000 major units of the reporting currency.
CREATE TABLE fx_rates (
    currency  TEXT   NOT NULL REFERENCES currencies (code),
    rate_date DATE   NOT NULL,
    micros    BIGINT NOT NULL CHECK (micros > 0),
    source    TEXT   NOT NULL,
    PRIMARY KEY (currency, rate_date)
);

CREATE TABLE closed_periods (
    month     TEXT        PRIMARY KEY,   -- YYYY-MM
    closed_at TIMESTAMPTZ NOT NULL,
    closed_by BIGINT      NOT NULL REFERENCES users (id)
);

CREATE TABLE cost_entries (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_date         DATE    NOT NULL,
    game               TEXT    NOT NULL REFERENCES games (code),
    channel            TEXT    NOT NULL REFERENCES channels (code),
    campaign           TEXT    NOT NULL REFERENCES campaigns (code),
    country            TEXT    NOT NULL REFERENCES countries (code),
    vendor             TEXT    NOT NULL REFERENCES vendors (code),
    cost_type          TEXT    NOT NULL REFERENCES cost_types (code),
    currency           TEXT    NOT NULL REFERENCES currencies (code),
    amount_minor       BIGINT  NOT NULL,
    units              BIGINT,
    invoice_number     TEXT    NOT NULL DEFAULT '',
    invoice_key        TEXT    NOT NULL DEFAULT '',
    memo               TEXT    NOT NULL DEFAULT '',
    vat_included       BOOLEAN NOT NULL DEFAULT FALSE,
    corrects           BIGINT  REFERENCES cost_entries (id),
    reporting_currency TEXT    NOT NULL,
    reporting_minor    BIGINT  NOT NULL,
    fx_micros          BIGINT,
    fx_date            DATE,
    fx_source          TEXT,
    natural_key        TEXT    NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         TIMESTAMPTZ NOT NULL,
    created_by         BIGINT  NOT NULL REFERENCES users (id),
    updated_at         TIMESTAMPTZ NOT NULL,
    updated_by         BIGINT  NOT NULL REFERENCES users (id),
    deleted_at         TIMESTAMPTZ,
    deleted_by         BIGINT  REFERENCES users (id)
);
-- The warehouse's key and the vendor's invoice are unique among live entries.
CREATE UNIQUE INDEX cost_entries_natural_key ON cost_entries (natural_key) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX cost_entries_invoice ON cost_entries (vendor, invoice_key) WHERE deleted_at IS NULL AND invoice_key <> '';
-- Newest first, keyset-paginated.
CREATE INDEX cost_entries_date_id ON cost_entries (entry_date DESC, id DESC);
CREATE INDEX cost_entries_campaign_date ON cost_entries (campaign, entry_date);

CREATE TABLE budgets (
    campaign     TEXT   NOT NULL REFERENCES campaigns (code),
    month        TEXT   NOT NULL,   -- YYYY-MM
    amount_minor BIGINT NOT NULL CHECK (amount_minor >= 0),   -- reporting currency
    PRIMARY KEY (campaign, month)
);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE audit_log (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        TIMESTAMPTZ NOT NULL,
    actor_id  BIGINT NOT NULL REFERENCES users (id),
    action    TEXT   NOT NULL,
    entity    TEXT   NOT NULL,
    entity_id TEXT   NOT NULL,
    before    TEXT,   -- JSON
    after     TEXT,   -- JSON
    reason    TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
