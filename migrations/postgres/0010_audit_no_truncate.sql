-- The audit trail is append-only: row triggers refuse UPDATE and DELETE, and this statement
-- trigger refuses TRUNCATE, which row triggers never see.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
