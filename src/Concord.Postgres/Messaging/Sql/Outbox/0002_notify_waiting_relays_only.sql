-- Wake relays only when one is waiting. A NOTIFY makes its transaction take a database-wide lock
-- at commit, so with 0001's unconditional NOTIFY every transaction that wrote an outbox row
-- committed one after another: on `concord bench outbox` that alone was about half of the outbox's
-- cost on order creation. A relay that keeps finding work never waits, so under load no writer
-- notifies; an idle relay registers, and the next writer wakes it.
--
-- No wake-up is lost. A writer takes a shared advisory lock, then reads the register, and holds the
-- lock until it commits. A relay registers (committed), then takes and drops the same lock in
-- exclusive mode, which waits for every writer that may have read the register before the
-- registration to commit, then looks for work once more before it sleeps. A writer reads the
-- register either after the registration committed (it notifies) or before (the relay's last look
-- sees its row). A relay that dies while registered only leaves writers notifying, as before; the
-- next registration clears registrations of backends that are gone.
--
-- The lock is the two-key advisory lock (0, 1869968482) ('outb' in ASCII): two-key advisory locks
-- never collide with the one-key ones the idempotency keys take.
CREATE TABLE outbox_waiting_relays (
    backend_pid integer     PRIMARY KEY,
    since       timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- Writers read it from their own role: who waits is no secret.
GRANT SELECT ON outbox_waiting_relays TO PUBLIC;

CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(0, 1869968482);
    IF EXISTS (SELECT 1 FROM outbox_waiting_relays) THEN
        PERFORM pg_notify('concord_outbox', '');
    END IF;
    RETURN NULL;
END
$$;

-- The relay's side, on its listening connection; SECURITY DEFINER so the application role needs
-- no write grant on the register.
CREATE FUNCTION outbox_relay_waits() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
    DELETE FROM outbox_waiting_relays w WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.pid = w.backend_pid);
    INSERT INTO outbox_waiting_relays (backend_pid) VALUES (pg_backend_pid()) ON CONFLICT DO NOTHING;
END
$$;

CREATE FUNCTION outbox_relay_wakes() RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
    DELETE FROM outbox_waiting_relays WHERE backend_pid = pg_backend_pid();
$$;
