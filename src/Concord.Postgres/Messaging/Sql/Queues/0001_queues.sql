-- PostgreSQL-backed queues: the default transport between services (no extra server). A queue is a
-- name; delivery is at least once (a relay that crashes after publishing and before marking its
-- outbox row publishes again), so consumers dedupe with their inbox.
CREATE TABLE queue_messages (
    position      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue         text        NOT NULL,
    message_id    text        NOT NULL,
    message_type  text        NOT NULL,
    partition_key text        NOT NULL,
    payload       bytea       NOT NULL,
    enqueued_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    attempts      integer     NOT NULL DEFAULT 0
);
CREATE INDEX queue_messages_by_partition ON queue_messages (queue, partition_key, position);
CREATE INDEX queue_messages_by_queue ON queue_messages (queue, position);

-- Messages whose handler kept failing, kept for a person to inspect and replay.
CREATE TABLE queue_dead_letters (
    position      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue         text        NOT NULL,
    message_id    text        NOT NULL,
    message_type  text        NOT NULL,
    partition_key text        NOT NULL,
    payload       bytea       NOT NULL,
    attempts      integer     NOT NULL,
    last_error    text        NOT NULL,
    dead_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE FUNCTION queue_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('concord_queue', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER queue_notify AFTER INSERT ON queue_messages FOR EACH STATEMENT EXECUTE FUNCTION queue_notify();
