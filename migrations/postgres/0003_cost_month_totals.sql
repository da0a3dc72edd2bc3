-- Live entries and their reporting total per month, kept by every write in the same transaction,
-- so list totals need not scan the ledger.
CREATE TABLE cost_month_totals (
    month           TEXT   PRIMARY KEY,   -- YYYY-MM
    entries         BIGINT NOT NULL,
    reporting_minor BIGINT NOT NULL
);
INSERT INTO cost_month_totals (month, entries, reporting_minor)
SELECT to_char(entry_date, 'YYYY-MM'), COUNT(*), SUM(reporting_minor) FROM cost_entries WHERE deleted_at IS NULL GROUP BY 1;
