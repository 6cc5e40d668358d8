-- Transactional outbox and idempotent inbox (Concord.Postgres.Messaging). A service writes outbox
-- rows in the same transaction as the change they announce, so an event exists if and only if its
-- change committed; the relay publishes them. The inbox records each consumed message id in the
-- same transaction as its effects, so redelivered messages change nothing twice.
CREATE TABLE outbox (
    position      bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id    text        NOT NULL CONSTRAINT outbox_message_id_unique UNIQUE,
    message_type  text        NOT NULL,
    partition_key text        NOT NULL,
    payload       bytea       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    published_at  timestamptz
);
-- The relay's work list: unpublished rows, per partition, in order.
CREATE INDEX outbox_pending_by_partition ON outbox (partition_key, position) WHERE published_at IS NULL;
CREATE INDEX outbox_pending ON outbox (position) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Wake relays at commit (NOTIFY is transactional: a rolled-back insert never wakes anyone).
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('concord_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE inbox (
    consumer     text        NOT NULL,
    message_id   text        NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (consumer, message_id)
);

