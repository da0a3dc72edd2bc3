-- SQLite turns an integer sum that overflows into an inexact REAL; PostgreSQL refuses it
-- ("bigint out of range"). Refuse it here too, so both keep running totals exact or fail the write.
CREATE TRIGGER cost_totals_exact_insert BEFORE INSERT ON cost_totals
    WHEN typeof(NEW.reporting_minor) <> 'integer' OR typeof(NEW.entries) <> 'integer'
BEGIN
    SELECT RAISE(ABORT, 'running total out of range');
END;
CREATE TRIGGER cost_totals_exact_update BEFORE UPDATE ON cost_totals
    WHEN typeof(NEW.reporting_minor) <> 'integer' OR typeof(NEW.entries) <> 'integer'
BEGIN
    SELECT RAISE(ABORT, 'running total out of range');
END;
