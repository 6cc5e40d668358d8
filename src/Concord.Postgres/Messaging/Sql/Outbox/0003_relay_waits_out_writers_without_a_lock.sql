-- 0002's barrier, without a lock writers queue on. There, writers held a shared advisory lock from
-- their outbox insert to their commit, and a relay about to sleep took it exclusively once. A
-- waiting exclusive request makes every later shared request wait behind it, so each time a relay
-- went to sleep every outbox writer stalled until the slowest open writer committed, and under the
-- order saga's bursty load relays go to sleep and wake over and over.
--
-- Now a writer only reads the register (its statement-level trigger runs after its insert, so its
-- transaction id exists, and holds the lock on itself every transaction id holds, before it looks).
-- A relay registers (committed), then waits, without blocking anyone, for every transaction of its
-- database that was running once the registration committed, and then looks for work once more. A
-- writer reads the register either after the registration committed (it notifies) or before: then
-- its id was assigned before the registration committed, so it had committed (the relay's last look
-- sees its rows) or was still running (the relay waits it out). That reasoning needs each read of
-- the register to take a fresh snapshot, which READ COMMITTED writers do; a REPEATABLE READ or
-- SERIALIZABLE writer, or a prepared transaction (it has no backend), may be found only by the
-- relay's poll.
--
-- Running transactions are found in pg_locks (the exclusive lock each holds on its own id), joined
-- to pg_stat_activity for their database: both show these columns to every role, and a snapshot's
-- list of running ids would include every database's, such as the bus's consumers, whose
-- transactions stay open while they work. The wait is bounded: a transaction that stays open makes
-- the function return false, and the relay polls instead of sleeping until it can sleep safely.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM outbox_waiting_relays) THEN
        PERFORM pg_notify('concord_outbox', '');
    END IF;
    RETURN NULL;
END
$$;

-- It polls, every 1 ms at first, doubling up to 16 ms: writers commit within milliseconds, so most
-- waits end at the first or second look, and a long one costs few wake-ups.
CREATE FUNCTION outbox_relay_waits_out_writers(timeout_ms integer) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    running  xid[] := ARRAY(
        SELECT l.transactionid
          FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted
           AND a.datname = current_database() AND l.pid <> pg_backend_pid());
    deadline timestamptz := clock_timestamp() + timeout_ms * interval '1 millisecond';
    pause    float8 := 0.001;
BEGIN
    LOOP
        IF cardinality(running) = 0 THEN
            RETURN true;
        ELSIF clock_timestamp() >= deadline THEN
            RETURN false;
        END IF;
        PERFORM pg_sleep(pause);
        pause := least(pause * 2, 0.016);
        running := ARRAY(
            SELECT l.transactionid FROM pg_locks l
             WHERE l.locktype = 'transactionid' AND l.mode = 'ExclusiveLock' AND l.granted AND l.transactionid = ANY (running));
    END LOOP;
END
$$;
