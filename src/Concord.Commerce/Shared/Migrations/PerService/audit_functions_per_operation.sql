-- Leaner audit writes, the same audit rows. Replaces audit_functions_per_table.sql's generator and
-- converts the tables it audited. What each audited statement no longer pays for:
--
-- 1. A table CHECK on audit_log. PostgreSQL compiles a table's CHECK expressions for every
--    statement that inserts into it, and every audited statement runs one such INSERT. Now:
--    - operation is a domain, whose check is compiled once per backend;
--    - "an INSERT row has no before, a DELETE row no after" holds by construction: each function
--      below writes one operation and puts NULL on its own side;
--    - the one case those CHECKs caught at run time, an UPDATE that changes an audited key (its old
--      and new rows found no partner), is refused before it happens, by name, by a key guard
--      trigger (BEFORE UPDATE OF the key columns, WHEN a key changes: free for every other update).
-- 2. jsonb. before, after and row_key are json: the exact text the trigger wrote, with no parse into
--    jsonb's binary form on the write path. The audit log is written on every change and read
--    rarely; ->, ->> and json_* functions read it as before.
-- 3. A branch on TG_OP and a DECLARE block per call: one function per table and operation, which
--    reads the stamp inside its INSERT.
--
-- Unchanged: statement-level AFTER triggers with transition tables, one audit row per changed row,
-- SECURITY DEFINER functions (the application role still cannot write audit_log itself) with a
-- fixed search_path.
--
-- This file is embedded into each service's migrations under that service's next version number
-- (see Concord.Commerce.csproj).
CREATE DOMAIN audit_operation AS text CONSTRAINT audit_operation_known CHECK (VALUE IN ('INSERT', 'UPDATE', 'DELETE'));

ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_operation,
    DROP CONSTRAINT audit_log_before_iff_not_insert,
    DROP CONSTRAINT audit_log_after_iff_not_delete,
    ALTER COLUMN operation TYPE audit_operation,
    ALTER COLUMN row_key TYPE json USING row_key::json,
    ALTER COLUMN before TYPE json USING before::json,
    ALTER COLUMN after TYPE json USING after::json;

CREATE FUNCTION audit_key_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the key of % (%) is immutable: insert a new row instead', TG_TABLE_NAME, array_to_string(TG_ARGV, ', ')
        USING ERRCODE = 'check_violation';
END
$$;

CREATE OR REPLACE FUNCTION audit_table(audited regclass, VARIADIC key_columns text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := (SELECT relname FROM pg_class WHERE oid = audited);
    key_of_new text := (SELECT 'json_build_object(' || string_agg(format('%L, n.%I', k, k), ', ') || ')' FROM unnest(key_columns) k);
    key_of_old text := (SELECT 'json_build_object(' || string_agg(format('%L, o.%I', k, k), ', ') || ')' FROM unnest(key_columns) k);
    same_key text := (SELECT string_agg(format('o.%I = n.%I', k, k), ' AND ') FROM unnest(key_columns) k);
    key_changed text := (SELECT string_agg(format('OLD.%I IS DISTINCT FROM NEW.%I', k, k), ' OR ') FROM unnest(key_columns) k);
    key_list text := (SELECT string_agg(format('%I', k), ', ') FROM unnest(key_columns) k);
    key_names text := (SELECT string_agg(quote_literal(k), ', ') FROM unnest(key_columns) k);
    -- The application sets concord.hlc (its hybrid logical clock, 48-bit ms + 16-bit counter) and
    -- concord.actor with SET LOCAL in each transaction; an ad-hoc session falls back to the wall
    -- clock in the same encoding with a zero counter, and to its login role.
    stamp text := $s$coalesce(nullif(current_setting('concord.hlc', true), '')::bigint, floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint << 16)$s$;
    actor text := $s$coalesce(nullif(current_setting('concord.actor', true), ''), session_user)$s$;
    operation text;
    source text;
BEGIN
    FOREACH operation IN ARRAY ARRAY['INSERT', 'UPDATE', 'DELETE'] LOOP
        source := CASE operation
            WHEN 'INSERT' THEN format('SELECT %s, %s, TG_TABLE_NAME, %s, ''INSERT'', NULL, to_json(n) FROM new_rows n', stamp, actor, key_of_new)
            WHEN 'DELETE' THEN format('SELECT %s, %s, TG_TABLE_NAME, %s, ''DELETE'', to_json(o), NULL FROM old_rows o', stamp, actor, key_of_old)
            -- Keys cannot change (the guard below), so every old row finds its new row. Should the
            -- guard ever be dropped, a key change still leaves both rows here, each with one image.
            ELSE format('SELECT %s, %s, TG_TABLE_NAME, CASE WHEN n.%I IS NULL THEN %s ELSE %s END, ''UPDATE'', to_json(o), to_json(n) FROM old_rows o FULL JOIN new_rows n ON %s',
                        stamp, actor, key_columns[1], key_of_old, key_of_new, same_key)
        END;
        EXECUTE format($function$
            CREATE OR REPLACE FUNCTION %I() RETURNS trigger LANGUAGE plpgsql
                SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $body$
            BEGIN
                INSERT INTO public.audit_log (hlc, actor, table_name, row_key, operation, before, after) %s;
                RETURN NULL;
            END
            $body$
            $function$, format('audit_%s_%s', name, lower(operation)), source);
        EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT EXECUTE FUNCTION %I()',
                       format('%s_audit_%s', name, lower(operation)), operation, audited,
                       CASE operation WHEN 'INSERT' THEN 'NEW TABLE AS new_rows' WHEN 'DELETE' THEN 'OLD TABLE AS old_rows'
                                      ELSE 'OLD TABLE AS old_rows NEW TABLE AS new_rows' END,
                       format('audit_%s_%s', name, lower(operation)));
    END LOOP;
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OF %s ON %s FOR EACH ROW WHEN (%s) EXECUTE FUNCTION audit_key_is_immutable(%s)',
                   name || '_key_is_immutable', key_list, audited, key_changed, key_names);
END
$$;

-- Convert the tables audited so far. Their key columns are spelled out only inside their per-table
-- functions; every one of them is the table's primary key, so read it from there and check that
-- the old function used exactly that key before replacing it.
DO $$
DECLARE
    t record;
    key_columns text[];
BEGIN
    FOR t IN
        SELECT c.oid::regclass AS audited, c.relname AS name, p.oid::regprocedure AS old_function, p.prosrc
          FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_proc p ON p.oid = g.tgfoid
         WHERE g.tgname = c.relname || '_audit_insert' AND p.proname = 'audit_' || c.relname
    LOOP
        key_columns := (SELECT array_agg(a.attname::text ORDER BY k.position)
                          FROM pg_index i, unnest(i.indkey) WITH ORDINALITY AS k(attnum, position)
                          JOIN pg_attribute a ON a.attnum = k.attnum
                         WHERE i.indrelid = t.audited AND i.indisprimary AND a.attrelid = t.audited);
        IF key_columns IS NULL OR position((SELECT 'jsonb_build_object(' || string_agg(format('%L, n.%I', k, k), ', ') || ')'
                                              FROM unnest(key_columns) k) IN t.prosrc) = 0 THEN
            RAISE EXCEPTION 'cannot convert the audit triggers of %: its audit key is not its primary key', t.audited;
        END IF;
        EXECUTE format('DROP TRIGGER %I ON %s', t.name || '_audit_insert', t.audited);
        EXECUTE format('DROP TRIGGER %I ON %s', t.name || '_audit_update', t.audited);
        EXECUTE format('DROP TRIGGER %I ON %s', t.name || '_audit_delete', t.audited);
        EXECUTE format('DROP FUNCTION %s', t.old_function);
        PERFORM audit_table(t.audited, VARIADIC key_columns);
    END LOOP;
END
$$;
