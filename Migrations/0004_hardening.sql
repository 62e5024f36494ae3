-- Housekeeping indexes (issue 15).

-- Idempotency keys are kept for IDEMPOTENCY_WINDOW and then swept, oldest first.
CREATE INDEX publish_requests_created ON publish_requests (created_at);
