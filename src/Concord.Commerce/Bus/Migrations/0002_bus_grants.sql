-- The bus database (Concord.Postgres.Messaging queues, 0001): relays enqueue, consumers claim,
-- acknowledge (delete) and dead-letter, all as the application role.
GRANT SELECT, INSERT, UPDATE, DELETE ON queue_messages, queue_dead_letters TO concord_app;
