-- The services publish through their outbox and consume through their inbox (0004).
GRANT SELECT, INSERT, UPDATE, DELETE ON outbox TO concord_app;
GRANT SELECT, INSERT, DELETE ON inbox TO concord_app;
