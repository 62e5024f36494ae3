-- Read and clear watermarks (issue 14): marking everything read, or clearing, at a location with a million
-- notifications wrote a receipt per notification (21 MB for 100,000) and timed out at a million. A watermark per
-- user and audience makes both a few rows, however many notifications the audience holds.
--
-- For user U and audience A, with R = read_through, C = cleared_through and W = greatest(R, C):
--     n is visible to U  ⇔  not expired  ∧  n.id > C  ∧  no receipt of U deletes it
--     n is read by U     ⇔  n.read_at (personal rows)  ∨  a receipt reads it  ∨  (n.id ≤ R  ∧  not marked unread)
-- A receipt is "marked unread" when U marks a notification unread that R already covers.
--
-- U's unread count over A is
--     unread(A)      rows of A in the unread state (read_at IS NULL; every shared row is)      audience_counts
--   - below(U,A)     of those, the ones at or under W: the watermarks decide them               inbox_marks
--   - hidden(U,A)    receipts of U above W that read or delete a row                            inbox_marks
--   + pinned(U,A)    receipts of U marked unread in (C, R]                                      inbox_marks
--   - the expired rows not yet swept among the rest (an index range the sweep keeps short)
-- and the number of notifications U sees in A is
--     total(A) - gone(U,A) - deleted(U,A) - the expired ones among them
-- where gone = rows at or under C and deleted = receipts above C that delete.
--
-- Who keeps what:
--   - notifications' triggers keep audience_counts, and below and gone of every mark at or above a deleted or
--     re-read row (the fan-out of a deletion is one update per marked user of that audience, as a receipt per
--     reader was before);
--   - receipts' triggers keep hidden, deleted and pinned of their user;
--   - read-all and clear set a mark's watermark and recompute its counters outright (InboxStore).
-- A new row's id is above every watermark (ids are drawn in commit order and a watermark never passes the
-- largest committed id), so inserts touch only audience_counts.
--
-- A large publish stages its rows before it takes the publish lock and gives them their ids under it
-- (PublishStore, Migrations/0004): a staged row has an id of 2^62 or more and is not in any inbox yet, so the
-- counters skip it, and count it when the update that gives it its real id moves it below 2^62.
--
-- Lock order, for every writer: notifications rows, audience_counts rows, notification_receipts rows,
-- inbox_marks rows, each in key order. That is why a deleted notification's receipts are deleted by the
-- notifications trigger after the counters (the foreign key is checked at commit) rather than by a cascade,
-- which would run first. Read-all and clear lock the counters of their audiences before they read them, so no
-- deletion can slip between a watermark and the counts computed for it; a receipts trigger locks its marks
-- before it reads the watermark its deltas depend on.

LOCK TABLE notifications, notification_receipts IN SHARE ROW EXCLUSIVE MODE;

DROP TRIGGER notifications_count_insert ON notifications;
DROP TRIGGER notifications_count_update ON notifications;
DROP TRIGGER notifications_count_delete ON notifications;
DROP TRIGGER receipts_count_insert ON notification_receipts;
DROP TRIGGER receipts_count_update ON notification_receipts;
DROP TRIGGER receipts_count_delete ON notification_receipts;
DROP FUNCTION herald_count_unread();
DROP FUNCTION herald_count_hidden();
DROP FUNCTION herald_unread_count(text, text[]);

-- Plans that stay right whatever the data's shape (issue 14). A query reads an audience through its parameter;
-- without a value to look up, the planner divides the table by the number of distinct audiences, and when one
-- location holds most rows that is a few dozen: it then expects thousands of rows per audience and walks the
-- primary key backwards with the audience as a filter, which for an empty or small audience reads the whole
-- table. Herald always wants one index range per audience, and audiences are many and small on average; saying
-- so (two rows each on average) makes that range the cheapest plan for every shape, generic plans included.
-- ANALYZE keeps this setting.
ALTER TABLE notifications ALTER COLUMN audience SET (n_distinct = -0.5);

CREATE TABLE audience_counts (
    audience text   PRIMARY KEY,
    unread   bigint NOT NULL,
    total    bigint NOT NULL
) WITH (fillfactor = 50);

INSERT INTO audience_counts (audience, unread, total)
SELECT audience, count(*) FILTER (WHERE read_at IS NULL), count(*) FROM notifications GROUP BY audience;

DROP TABLE audience_unread;

ALTER TABLE notification_receipts ADD COLUMN marked_unread boolean NOT NULL DEFAULT false;

-- Receipts marked unread, for the unread page and for read-all, which clears them.
CREATE INDEX notification_receipts_marked_unread ON notification_receipts (user_id, audience, notification_id)
    WHERE marked_unread;

-- A receipt's notification is checked at commit, after the notifications trigger has deleted the receipts of
-- the rows it deleted (see the lock order above). A receipt written for a notification that a concurrent
-- transaction deletes fails one of the two at commit, so no receipt outlives its notification.
ALTER TABLE notification_receipts DROP CONSTRAINT notification_receipts_notification_id_fkey;
ALTER TABLE notification_receipts ADD CONSTRAINT notification_receipts_notification_id_fkey
    FOREIGN KEY (notification_id) REFERENCES notifications (id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE inbox_marks (
    user_id         text        NOT NULL,
    audience        text        NOT NULL,
    read_through    bigint      NOT NULL DEFAULT 0,
    read_at         timestamptz,
    cleared_through bigint      NOT NULL DEFAULT 0,
    cleared_at      timestamptz,
    -- personal rows at or under cleared_through that the sweep has deleted so far
    purged_through  bigint      NOT NULL DEFAULT 0,
    below           bigint      NOT NULL DEFAULT 0,
    gone            bigint      NOT NULL DEFAULT 0,
    hidden          bigint      NOT NULL DEFAULT 0,
    deleted         bigint      NOT NULL DEFAULT 0,
    pinned          bigint      NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, audience)
) WITH (fillfactor = 50);

-- The marks a deleted row of an audience may sit under.
CREATE INDEX inbox_marks_audience ON inbox_marks (audience, (greatest(read_through, cleared_through)))
    WHERE greatest(read_through, cleared_through) > 0;

-- Personal audiences cleared but not yet purged of their rows (the sweep's work list).
CREATE INDEX inbox_marks_purge ON inbox_marks (audience) WHERE cleared_through > purged_through;

INSERT INTO inbox_marks (user_id, audience, hidden, deleted)
SELECT user_id, audience,
       count(*) FILTER (WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL),
       count(*) FILTER (WHERE deleted_at IS NOT NULL)
FROM notification_receipts
GROUP BY user_id, audience
HAVING count(*) FILTER (WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL) > 0;

DROP TABLE receipt_hidden;

-- Expiring rows per audience: the part of a count or a visible total still read from rows (expired, not yet
-- swept). It replaces the unread-only index, since the visible total needs read rows too.
DROP INDEX notifications_unread_expiring;
CREATE INDEX notifications_expiring ON notifications (audience, expires_at) WHERE expires_at IS NOT NULL;

-- The counters of notifications' changes. Each event has its own query because a transition table exists only
-- for the events that have it, and PL/pgSQL plans a query when it first runs.
CREATE FUNCTION herald_count_notifications() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audience_counts AS c (audience, unread, total)
        SELECT audience, count(*) FILTER (WHERE read_at IS NULL), count(*) FROM new_rows
        WHERE id < 4611686018427387904
        GROUP BY audience ORDER BY audience
        ON CONFLICT (audience) DO UPDATE SET unread = c.unread + excluded.unread, total = c.total + excluded.total;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audience_counts AS c (audience, unread, total)
        SELECT audience, -count(*) FILTER (WHERE read_at IS NULL), -count(*) FROM old_rows
        WHERE id < 4611686018427387904
        GROUP BY audience ORDER BY audience
        ON CONFLICT (audience) DO UPDATE SET unread = c.unread + excluded.unread, total = c.total + excluded.total;
        -- Every mark this deletion changes, locked in key order before the receipts trigger and the fan-out
        -- below lock them again: the users with receipts on the rows, and the marks at or above the rows.
        PERFORM 1 FROM inbox_marks m
        WHERE (m.user_id, m.audience) IN (
                  SELECT r.user_id, r.audience FROM notification_receipts r
                  WHERE r.notification_id IN (SELECT id FROM old_rows)
                  UNION
                  SELECT k.user_id, k.audience
                  FROM (SELECT audience, min(id) AS first FROM old_rows GROUP BY audience) d
                  JOIN inbox_marks k ON k.audience = d.audience
                   AND greatest(k.read_through, k.cleared_through) >= d.first
                   AND greatest(k.read_through, k.cleared_through) > 0)
        ORDER BY m.user_id, m.audience
        FOR UPDATE;
        DELETE FROM notification_receipts WHERE notification_id IN (SELECT id FROM old_rows);
        -- width_bucket(x, sorted ids) is how many of the ids are at or under x.
        UPDATE inbox_marks m
        SET below = m.below - width_bucket(greatest(m.read_through, m.cleared_through), d.unread_ids),
            gone = m.gone - width_bucket(m.cleared_through, d.ids)
        FROM (
            SELECT audience, min(id) AS first, array_agg(id ORDER BY id) AS ids,
                   coalesce(array_agg(id ORDER BY id) FILTER (WHERE read_at IS NULL), '{}') AS unread_ids
            FROM old_rows GROUP BY audience
        ) d
        WHERE m.audience = d.audience AND greatest(m.read_through, m.cleared_through) >= d.first
          AND greatest(m.read_through, m.cleared_through) > 0;
    ELSE
        -- A personal row's read_at moves it in or out of the unread state; a staged row's new id brings it in.
        INSERT INTO audience_counts AS c (audience, unread, total)
        SELECT d.audience, sum(d.unread), sum(d.total) FROM (
            SELECT audience, (read_at IS NULL)::int AS unread, 1 AS total FROM new_rows
            WHERE id < 4611686018427387904
            UNION ALL
            SELECT audience, -(read_at IS NULL)::int, -1 FROM old_rows
            WHERE id < 4611686018427387904
        ) d
        GROUP BY d.audience HAVING sum(d.unread) <> 0 OR sum(d.total) <> 0 ORDER BY d.audience
        ON CONFLICT (audience) DO UPDATE SET unread = c.unread + excluded.unread, total = c.total + excluded.total;
        INSERT INTO inbox_marks AS m (user_id, audience, below)
        SELECT k.user_id, k.audience, sum(d.delta)
        FROM (
            SELECT audience, id, sum(delta) AS delta FROM (
                SELECT audience, id, 1 AS delta FROM new_rows WHERE read_at IS NULL
                UNION ALL
                SELECT audience, id, -1 FROM old_rows WHERE read_at IS NULL
            ) changes
            GROUP BY audience, id HAVING sum(delta) <> 0
        ) d
        JOIN inbox_marks k ON k.audience = d.audience AND greatest(k.read_through, k.cleared_through) >= d.id
         AND greatest(k.read_through, k.cleared_through) > 0
        GROUP BY k.user_id, k.audience ORDER BY k.user_id, k.audience
        ON CONFLICT (user_id, audience) DO UPDATE SET below = m.below + excluded.below;
    END IF;
    RETURN NULL;
END $$;

-- A receipt's part in its user's counters, against the user's watermarks for its audience (see the formula).
CREATE FUNCTION herald_receipt_parts(
    p_id bigint, p_read_at timestamptz, p_deleted_at timestamptz, p_marked_unread boolean,
    p_read_through bigint, p_cleared_through bigint,
    OUT hidden int, OUT deleted int, OUT pinned int)
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (p_id > greatest(p_read_through, p_cleared_through)
                AND (p_read_at IS NOT NULL OR p_deleted_at IS NOT NULL))::int,
           (p_id > p_cleared_through AND p_deleted_at IS NOT NULL)::int,
           (p_marked_unread AND p_id > p_cleared_through AND p_id <= p_read_through AND p_deleted_at IS NULL)::int
$$;

CREATE FUNCTION herald_count_receipts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Receipts that only record delivery count for nothing, whatever the watermarks: most acks end here. (Each
    -- event tests only its own transition tables; a query naming the other one would not even parse.)
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL OR marked_unread)
        THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'DELETE' THEN
        IF NOT EXISTS (SELECT 1 FROM old_rows WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL OR marked_unread)
        THEN
            RETURN NULL;
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM new_rows WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL OR marked_unread)
      AND NOT EXISTS (SELECT 1 FROM old_rows WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL OR marked_unread)
    THEN
        RETURN NULL;
    END IF;
    -- The marks first, created if missing and locked in key order: the deltas below depend on their watermarks,
    -- which read-all may move until the lock is ours. The next statement reads them afresh.
    IF TG_OP = 'DELETE' THEN
        INSERT INTO inbox_marks (user_id, audience)
        SELECT DISTINCT user_id, audience FROM old_rows ORDER BY 1, 2 ON CONFLICT DO NOTHING;
        PERFORM 1 FROM inbox_marks WHERE (user_id, audience) IN (SELECT user_id, audience FROM old_rows)
        ORDER BY user_id, audience FOR UPDATE;
    ELSE
        INSERT INTO inbox_marks (user_id, audience)
        SELECT DISTINCT user_id, audience FROM new_rows ORDER BY 1, 2 ON CONFLICT DO NOTHING;
        PERFORM 1 FROM inbox_marks WHERE (user_id, audience) IN (SELECT user_id, audience FROM new_rows)
        ORDER BY user_id, audience FOR UPDATE;
    END IF;
    IF TG_OP = 'INSERT' THEN
        UPDATE inbox_marks m SET hidden = m.hidden + d.hidden, deleted = m.deleted + d.deleted,
                                 pinned = m.pinned + d.pinned
        FROM (
            SELECT x.user_id, x.audience, sum(p.hidden) AS hidden, sum(p.deleted) AS deleted, sum(p.pinned) AS pinned
            FROM new_rows x
            JOIN inbox_marks k ON k.user_id = x.user_id AND k.audience = x.audience
            CROSS JOIN LATERAL herald_receipt_parts(x.notification_id, x.read_at, x.deleted_at, x.marked_unread,
                                                   k.read_through, k.cleared_through) p
            GROUP BY x.user_id, x.audience
        ) d
        WHERE m.user_id = d.user_id AND m.audience = d.audience;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE inbox_marks m SET hidden = m.hidden - d.hidden, deleted = m.deleted - d.deleted,
                                 pinned = m.pinned - d.pinned
        FROM (
            SELECT x.user_id, x.audience, sum(p.hidden) AS hidden, sum(p.deleted) AS deleted, sum(p.pinned) AS pinned
            FROM old_rows x
            JOIN inbox_marks k ON k.user_id = x.user_id AND k.audience = x.audience
            CROSS JOIN LATERAL herald_receipt_parts(x.notification_id, x.read_at, x.deleted_at, x.marked_unread,
                                                   k.read_through, k.cleared_through) p
            GROUP BY x.user_id, x.audience
        ) d
        WHERE m.user_id = d.user_id AND m.audience = d.audience;
    ELSE
        UPDATE inbox_marks m SET hidden = m.hidden + d.hidden, deleted = m.deleted + d.deleted,
                                 pinned = m.pinned + d.pinned
        FROM (
            SELECT c.user_id, c.audience, sum(c.hidden) AS hidden, sum(c.deleted) AS deleted, sum(c.pinned) AS pinned
            FROM (
                SELECT x.user_id, x.audience, p.hidden, p.deleted, p.pinned
                FROM new_rows x
                JOIN inbox_marks k ON k.user_id = x.user_id AND k.audience = x.audience
                CROSS JOIN LATERAL herald_receipt_parts(x.notification_id, x.read_at, x.deleted_at, x.marked_unread,
                                                       k.read_through, k.cleared_through) p
                UNION ALL
                SELECT x.user_id, x.audience, -p.hidden, -p.deleted, -p.pinned
                FROM old_rows x
                JOIN inbox_marks k ON k.user_id = x.user_id AND k.audience = x.audience
                CROSS JOIN LATERAL herald_receipt_parts(x.notification_id, x.read_at, x.deleted_at, x.marked_unread,
                                                       k.read_through, k.cleared_through) p
            ) c
            GROUP BY c.user_id, c.audience
            HAVING (sum(c.hidden), sum(c.deleted), sum(c.pinned)) <> (0, 0, 0)
        ) d
        WHERE m.user_id = d.user_id AND m.audience = d.audience;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER notifications_count_insert AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_notifications();
CREATE TRIGGER notifications_count_update AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION herald_count_notifications();
CREATE TRIGGER notifications_count_delete AFTER DELETE ON notifications
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_notifications();
CREATE TRIGGER receipts_count_insert AFTER INSERT ON notification_receipts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_receipts();
CREATE TRIGGER receipts_count_update AFTER UPDATE ON notification_receipts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_receipts();
CREATE TRIGGER receipts_count_delete AFTER DELETE ON notification_receipts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_receipts();

-- What `p_user`, whose audiences are `p_audiences`, has unread: unexpired, visible, not read (the formula above).
CREATE FUNCTION herald_unread_count(p_user text, p_audiences text[]) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT coalesce(sum(c.unread), 0) FROM audience_counts c WHERE c.audience = ANY(p_audiences))
         - (SELECT coalesce(sum(m.below + m.hidden - m.pinned), 0) FROM inbox_marks m
            WHERE m.user_id = p_user AND m.audience = ANY(p_audiences))
         - (SELECT count(*) FROM notifications n
            LEFT JOIN inbox_marks m ON m.user_id = p_user AND m.audience = n.audience
            LEFT JOIN notification_receipts r ON r.user_id = p_user AND r.notification_id = n.id
            WHERE n.audience = ANY(p_audiences) AND n.expires_at <= now() AND n.read_at IS NULL
              AND n.id > coalesce(m.cleared_through, 0) AND r.deleted_at IS NULL
              AND CASE WHEN n.id > greatest(m.read_through, m.cleared_through, 0) THEN r.read_at IS NULL
                       ELSE coalesce(r.marked_unread, false) END);

-- How many notifications `p_user` sees in `p_audiences`, read or not: what clearing them removes.
CREATE FUNCTION herald_visible_count(p_user text, p_audiences text[]) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT coalesce(sum(c.total), 0) FROM audience_counts c WHERE c.audience = ANY(p_audiences))
         - (SELECT coalesce(sum(m.gone + m.deleted), 0) FROM inbox_marks m
            WHERE m.user_id = p_user AND m.audience = ANY(p_audiences))
         - (SELECT count(*) FROM notifications n
            LEFT JOIN inbox_marks m ON m.user_id = p_user AND m.audience = n.audience
            LEFT JOIN notification_receipts r ON r.user_id = p_user AND r.notification_id = n.id
            WHERE n.audience = ANY(p_audiences) AND n.expires_at <= now()
              AND n.id > coalesce(m.cleared_through, 0) AND r.deleted_at IS NULL);
