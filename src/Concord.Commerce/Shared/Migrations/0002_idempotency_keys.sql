-- Idempotency keys, as payment APIs use them: the key, a fingerprint of the request it first came
-- with, and the full response, so a replay returns the same bytes. A row is written only together
-- with the request's effects (or, for a refused request, with its error response): a key whose
-- request is still running has no row, only a transaction-scoped advisory lock (see IdempotencyKeys).
CREATE TABLE idempotency_keys (
    scope            text        NOT NULL,
    key              text        NOT NULL CONSTRAINT idempotency_key_length CHECK (length(key) BETWEEN 1 AND 255),
    fingerprint      bytea       NOT NULL,
    response_status  smallint    NOT NULL CONSTRAINT idempotency_response_status CHECK (response_status BETWEEN 100 AND 599),
    response_headers jsonb       NOT NULL,
    response_body    bytea       NOT NULL,
    created_at       timestamptz NOT NULL,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_expires_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

GRANT SELECT, INSERT, DELETE ON idempotency_keys TO concord_app;
