-- Saga commands this service has answered (Concord.Commerce.Sagas.Commands), one row per
-- idempotency key ({sagaId}:{step}:{do|undo}). Every attempt of one command carries the same key, so
-- a retry after a lost reply finds the first answer here and gets it again, refusals included,
-- instead of acting twice. An undo's row is also the tombstone that refuses a late "do" of the same
-- step (a reservation after its release, a capture after its refund). The inbox dedupes a
-- redelivered message; this table dedupes a re-sent command.
CREATE TABLE saga_command_results (
    idempotency_key text        PRIMARY KEY CONSTRAINT saga_command_results_key_length CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    saga_id         text        NOT NULL,
    outcome         text        NOT NULL CONSTRAINT saga_command_results_outcome CHECK (outcome IN ('succeeded', 'failed')),
    reason          text,
    answered_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT saga_command_results_reason_iff_failed CHECK ((outcome = 'failed') = (reason IS NOT NULL))
);

-- Answers are final: the service may record one, never change or forget it.
GRANT SELECT, INSERT ON saga_command_results TO concord_app;
