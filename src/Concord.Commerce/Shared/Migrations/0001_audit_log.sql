-- The immutable audit log. Every audited table has an AFTER trigger that calls audit_row(key columns…),
-- so each mutation writes its audit row in the mutating transaction: no audit row without the change,
-- no change without the audit row.
CREATE TABLE audit_log (
    id             bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    hlc            bigint      NOT NULL,
    actor          text        NOT NULL,
    table_name     text        NOT NULL,
    row_key        jsonb       NOT NULL,
    operation      text        NOT NULL CONSTRAINT audit_log_operation CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    before         jsonb,
    after          jsonb,
    transaction_id xid8        NOT NULL DEFAULT pg_current_xact_id(),
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT audit_log_before_iff_not_insert CHECK ((operation = 'INSERT') = (before IS NULL)),
    CONSTRAINT audit_log_after_iff_not_delete CHECK ((operation = 'DELETE') = (after IS NULL))
);

-- Privileges already keep the application role from rewriting history; these triggers keep the
-- owner from doing it by accident too (only a superuser disabling triggers can).
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- The application sets concord.hlc (its hybrid logical clock, 48-bit ms + 16-bit counter) and
-- concord.actor with SET LOCAL in each transaction. An ad-hoc session falls back to the wall clock
-- in the same encoding with a zero counter, and to its login role as the actor.
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    source  jsonb := to_jsonb(CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END);
    row_key jsonb := '{}';
    key_column text;
BEGIN
    FOREACH key_column IN ARRAY TG_ARGV LOOP
        row_key := row_key || jsonb_build_object(key_column, source -> key_column);
    END LOOP;
    INSERT INTO audit_log (hlc, actor, table_name, row_key, operation, before, after)
    VALUES (
        coalesce(nullif(current_setting('concord.hlc', true), '')::bigint,
                 floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint << 16),
        coalesce(nullif(current_setting('concord.actor', true), ''), session_user),
        TG_TABLE_NAME,
        row_key,
        TG_OP,
        CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
        CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
    RETURN NULL;
END
$$;

-- Least privilege: the application may append audit rows (the triggers run as it) and read them; nothing else.
GRANT INSERT, SELECT ON audit_log TO concord_app;
