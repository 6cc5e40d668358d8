-- The saga store (Concord.Commerce.Sagas), in the Orders database: a saga is about one order, and
-- its state change and the commands it sends must commit together, so it lives beside the outbox
-- (0004) it writes those commands to. One row per saga instance, one row per transition.
CREATE TABLE saga_instances (
    saga_id          text        PRIMARY KEY CONSTRAINT saga_instances_id_length CHECK (length(saga_id) BETWEEN 1 AND 100),
    saga_type        text        NOT NULL,
    status           text        NOT NULL CONSTRAINT saga_instances_status CHECK (status IN ('running', 'compensating', 'completed', 'compensated')),
    -- The pure core's SagaState without its history (that is saga_transitions), as JSON.
    state            jsonb       NOT NULL,
    -- Optimistic concurrency: a transition commits only over the version it read. It also counts
    -- the transitions, so the transition that produced version v has sequence v.
    version          bigint      NOT NULL CONSTRAINT saga_instances_version_positive CHECK (version >= 1),
    -- When the armed timer is due; the deadline service fires it. Only live sagas have one.
    next_deadline_at timestamptz,
    started_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    CONSTRAINT saga_instances_deadline_iff_live CHECK ((status IN ('running', 'compensating')) = (next_deadline_at IS NOT NULL))
);
CREATE INDEX saga_instances_due ON saga_instances (next_deadline_at) WHERE next_deadline_at IS NOT NULL;

CREATE TABLE saga_transitions (
    saga_id    text        NOT NULL REFERENCES saga_instances (saga_id),
    sequence   bigint      NOT NULL CONSTRAINT saga_transitions_sequence_positive CHECK (sequence >= 1),
    from_state text        NOT NULL,
    event      jsonb       NOT NULL,
    to_state   text        NOT NULL,
    effects    jsonb       NOT NULL,
    note       text        NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (saga_id, sequence)
);

-- History is append-only for the service: it may add transitions, never rewrite them.
GRANT SELECT, INSERT, UPDATE ON saga_instances TO concord_app;
GRANT SELECT, INSERT ON saga_transitions TO concord_app;
