-- Housekeeping indexes (issue 15).

-- Idempotency keys are kept for IDEMPOTENCY_WINDOW and then swept, oldest first.
CREATE INDEX publish_requests_created ON publish_requests (created_at);

-- Fan-out messages too large for a NOTIFY payload (8000 bytes): an event to a thousand users with long ids, say.
-- The message is stored here and the NOTIFY carries its id; every instance reads it back. Unlogged, because a
-- message is only useful for the moment it is delivered, and swept after a few minutes.
CREATE UNLOGGED TABLE fanout_payloads (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payload    text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fanout_payloads_created ON fanout_payloads (created_at);
