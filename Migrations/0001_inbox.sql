-- Herald's inbox.
--
-- A notification is stored once, whatever its audience. Personal ones (user_id) keep their recipient's read and
-- delivered state on the row itself; location and broadcast ones are shared, so each recipient's state lives in
-- notification_receipts, created only when that recipient reads, acknowledges or deletes (fan-out on read).
--
-- `audience` folds the three targets into one indexed key ('u:<user>', 'l:<location>' or '*'): an inbox is then a
-- handful of index ranges, one per audience the caller belongs to, each read newest-first.

CREATE TABLE notifications (
    id            bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type          text        NOT NULL,
    priority      text        NOT NULL DEFAULT 'medium' CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    title         text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 200),
    message       text        NOT NULL CHECK (char_length(message) <= 1000),
    data          jsonb       NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    action_url    text        CHECK (char_length(action_url) <= 500),
    user_id       text,
    location_id   text,
    broadcast     boolean     NOT NULL DEFAULT false,
    audience      text        NOT NULL GENERATED ALWAYS AS (
                      CASE WHEN user_id IS NOT NULL THEN 'u:' || user_id
                           WHEN location_id IS NOT NULL THEN 'l:' || location_id
                           ELSE '*' END) STORED,
    collapse_key  text        CHECK (char_length(collapse_key) <= 200),
    publisher     text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    read_at       timestamptz,
    delivered_at  timestamptz,
    CONSTRAINT exactly_one_target CHECK (num_nonnulls(user_id, location_id) + broadcast::int = 1),
    CONSTRAINT shared_state_in_receipts CHECK (user_id IS NOT NULL OR (read_at IS NULL AND delivered_at IS NULL))
);

-- A page of one audience, newest first (list, keyset paging, resume).
CREATE INDEX notifications_audience_id ON notifications (audience, id);

-- Unread items of one audience; expires_at is included so the unread count is an index-only scan.
CREATE INDEX notifications_unread ON notifications (audience, id) INCLUDE (expires_at) WHERE read_at IS NULL;

-- Collapse replacement finds the older notification with the same key for the same audience.
CREATE INDEX notifications_collapse ON notifications (audience, collapse_key) WHERE collapse_key IS NOT NULL;

-- The expiry sweep.
CREATE INDEX notifications_expires ON notifications (expires_at) WHERE expires_at IS NOT NULL;

-- One recipient's state for a shared (location or broadcast) notification.
CREATE TABLE notification_receipts (
    user_id         text        NOT NULL,
    notification_id bigint      NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    read_at         timestamptz,
    delivered_at    timestamptz,
    deleted_at      timestamptz,
    PRIMARY KEY (user_id, notification_id)
);

CREATE INDEX notification_receipts_notification ON notification_receipts (notification_id);

-- Idempotent publishing: the first result for (publisher, key) is returned to every retry.
CREATE TABLE publish_requests (
    publisher       text        NOT NULL,
    idempotency_key text        NOT NULL,
    ids             bigint[]    NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (publisher, idempotency_key)
);

-- The locations each user's most recent token named. Staff may publish to a user only if that user was seen at
-- one of the staff member's locations: Herald has no user directory of its own, so tokens are the source.
CREATE TABLE user_locations (
    user_id   text        PRIMARY KEY,
    locations text[]      NOT NULL,
    seen_at   timestamptz NOT NULL DEFAULT now()
);

-- The wire format's timestamps: ISO 8601, UTC, milliseconds, 'Z'. Formatting in SQL lets rows go to
-- clients without a date round trip through Swift.
CREATE FUNCTION herald_ts(t timestamptz) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
