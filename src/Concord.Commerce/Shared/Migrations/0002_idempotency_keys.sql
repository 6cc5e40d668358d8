-- Idempotency keys, as payment APIs use them: the key, a fingerprint of the request it first came
-- with, and the full response, so a replay returns the same bytes. A row with no response yet is
-- a request in flight.
CREATE TABLE idempotency_keys (
    key              text        NOT NULL CONSTRAINT idempotency_key_length CHECK (length(key) BETWEEN 1 AND 255),
    scope            text        NOT NULL,
    fingerprint      bytea       NOT NULL,
    -- Which attempt holds the key: a retry that takes over a dead attempt's key gets a new token,
    -- and the dead attempt, should it wake up, can no longer record a response.
    claim_token      uuid        NOT NULL,
    response_status  smallint    CONSTRAINT idempotency_response_status CHECK (response_status BETWEEN 100 AND 599),
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    completed_at     timestamptz,
    expires_at       timestamptz NOT NULL,
    PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_response_complete CHECK ((response_status IS NULL) = (completed_at IS NULL)),
    CONSTRAINT idempotency_expires_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO concord_app;
