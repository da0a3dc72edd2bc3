-- Running totals per month and per combination of the list's filters, kept by every write in the
-- same transaction: the list's total for any filter sums these few rows instead of the ledger.
CREATE TABLE cost_totals (
    month           TEXT   NOT NULL,   -- YYYY-MM
    game            TEXT   NOT NULL,
    channel         TEXT   NOT NULL,
    campaign        TEXT   NOT NULL,
    country         TEXT   NOT NULL,
    vendor          TEXT   NOT NULL,
    cost_type       TEXT   NOT NULL,
    entries         INTEGER NOT NULL,
    reporting_minor INTEGER NOT NULL,
    PRIMARY KEY (month, game, channel, campaign, country, vendor, cost_type)
);
INSERT INTO cost_totals (month, game, channel, campaign, country, vendor, cost_type, entries, reporting_minor)
SELECT substr(entry_date, 1, 7), game, channel, campaign, country, vendor, cost_type, COUNT(*), SUM(reporting_minor)
FROM cost_entries WHERE deleted_at IS NULL GROUP BY 1, 2, 3, 4, 5, 6, 7;
DROP TABLE cost_month_totals;

-- Sorting by amount and filtering by any one code stay index range scans, on any page.
CREATE INDEX cost_entries_amount_id ON cost_entries (reporting_minor, id);
CREATE INDEX cost_entries_game_date ON cost_entries (game, entry_date, id);
CREATE INDEX cost_entries_channel_date ON cost_entries (channel, entry_date, id);
CREATE INDEX cost_entries_country_date ON cost_entries (country, entry_date, id);
CREATE INDEX cost_entries_vendor_date ON cost_entries (vendor, entry_date, id);
CREATE INDEX cost_entries_cost_type_date ON cost_entries (cost_type, entry_date, id);
