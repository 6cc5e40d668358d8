-- The immutable audit log. Every audited table gets triggers from audit_table(table, key columns…),
-- so each mutation writes its audit rows in the mutating transaction: no audit row without the
-- change, no change without the audit row.
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

-- Privileges keep the application role from writing or rewriting history (it only reads it; the
-- audit triggers run as the owner). These triggers keep the owner from rewriting it by accident; an
-- owner or superuser who drops or disables them on purpose is beyond what a schema can stop.
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
--
-- Statement-level triggers with transition tables: one INSERT … SELECT per statement, whatever its
-- row count, instead of one PL/pgSQL call per row. An UPDATE pairs old and new rows by key, so an
-- update that changes a key finds no partner and is refused by audit_log's CHECKs: keys of audited
-- tables are immutable.
CREATE FUNCTION audit_rows() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    stamp bigint := coalesce(nullif(current_setting('concord.hlc', true), '')::bigint,
                             floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint << 16);
    actor text := coalesce(nullif(current_setting('concord.actor', true), ''), session_user);
    key_columns text[] := TG_ARGV;
BEGIN
    -- Separate branches: a transition table exists only for its own event.
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (hlc, actor, table_name, row_key, operation, before, after)
        SELECT stamp, actor, TG_TABLE_NAME, (SELECT jsonb_object_agg(k, r.j -> k) FROM unnest(key_columns) k), 'INSERT', NULL, r.j
          FROM (SELECT to_jsonb(n) AS j FROM new_rows n) r;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (hlc, actor, table_name, row_key, operation, before, after)
        SELECT stamp, actor, TG_TABLE_NAME, (SELECT jsonb_object_agg(k, r.j -> k) FROM unnest(key_columns) k), 'DELETE', r.j, NULL
          FROM (SELECT to_jsonb(o) AS j FROM old_rows o) r;
    ELSE
        INSERT INTO audit_log (hlc, actor, table_name, row_key, operation, before, after)
        SELECT stamp, actor, TG_TABLE_NAME, coalesce(o.k, n.k), 'UPDATE', o.j, n.j
          FROM (SELECT x.j, (SELECT jsonb_object_agg(c, x.j -> c) FROM unnest(key_columns) c) AS k
                  FROM (SELECT to_jsonb(o) AS j FROM old_rows o) x) o
          FULL JOIN
               (SELECT y.j, (SELECT jsonb_object_agg(c, y.j -> c) FROM unnest(key_columns) c) AS k
                  FROM (SELECT to_jsonb(n) AS j FROM new_rows n) y) n
            ON o.k = n.k;
    END IF;
    RETURN NULL;
END
$$;

-- Audits a table: three statement triggers named <table>_audit_insert|update|delete.
CREATE FUNCTION audit_table(audited regclass, VARIADIC key_columns text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := (SELECT relname FROM pg_class WHERE oid = audited);
    arguments text := (SELECT string_agg(quote_literal(k), ', ') FROM unnest(key_columns) k);
BEGIN
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %s REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_rows(%s)',
                   name || '_audit_insert', audited, arguments);
    EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %s REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_rows(%s)',
                   name || '_audit_update', audited, arguments);
    EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %s REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION audit_rows(%s)',
                   name || '_audit_delete', audited, arguments);
END
$$;

-- Least privilege: the application reads the log; only the SECURITY DEFINER trigger function writes it,
-- so no audit row exists without the change it records.
GRANT SELECT ON audit_log TO concord_app;
