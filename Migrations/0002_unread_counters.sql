-- Maintained unread counts (issue 6: the unread count with a million rows took 1.2 s, and every mark-read,
-- delete and socket connect asked for it).
--
-- A user's unread count is
--     the unread rows of each of their audiences        (audience_unread: personal, location and broadcast)
--   - the shared ones they have read or deleted         (receipt_hidden, per user and audience)
--   - the expired ones among the rest not yet swept     (an index range; the sweep keeps it near empty)
-- The first two are kept by statement-level triggers in the same transaction as the change, so every writer, the
-- store's statements and cascades alike, keeps them right without knowing they exist. Each trigger applies its
-- deltas in key order, so two statements that touch several counters take their row locks in the same order.

-- Writers below lock these before reading them, so nothing changes between the backfill and the triggers.
LOCK TABLE notifications, notification_receipts IN SHARE ROW EXCLUSIVE MODE;

-- A receipt carries its notification's audience, so the counters can be kept from the receipt alone (a cascaded
-- delete no longer has the notification to join).
ALTER TABLE notification_receipts ADD COLUMN audience text;
UPDATE notification_receipts r SET audience = n.audience FROM notifications n WHERE n.id = r.notification_id;
ALTER TABLE notification_receipts ALTER COLUMN audience SET NOT NULL;

-- During a rolling upgrade, instances still running the previous release insert receipts without the column;
-- this fills it in for them. Current statements supply it, and the WHEN clause skips the call entirely.
CREATE FUNCTION herald_receipt_audience() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT audience INTO NEW.audience FROM notifications WHERE id = NEW.notification_id;
    RETURN NEW;
END $$;

CREATE TRIGGER receipts_audience BEFORE INSERT ON notification_receipts
    FOR EACH ROW WHEN (NEW.audience IS NULL) EXECUTE FUNCTION herald_receipt_audience();

-- Every counter row is rewritten in place by each change; room on the page keeps those updates HOT.
CREATE TABLE audience_unread (
    audience text   PRIMARY KEY,
    unread   bigint NOT NULL
) WITH (fillfactor = 50);

CREATE TABLE receipt_hidden (
    user_id  text   NOT NULL,
    audience text   NOT NULL,
    hidden   bigint NOT NULL,
    PRIMARY KEY (user_id, audience)
) WITH (fillfactor = 50);

INSERT INTO audience_unread (audience, unread)
SELECT audience, count(*) FROM notifications WHERE read_at IS NULL GROUP BY audience;

INSERT INTO receipt_hidden (user_id, audience, hidden)
SELECT user_id, audience, count(*) FROM notification_receipts
WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL
GROUP BY user_id, audience;

-- The deltas of one statement: +1 per row entering the counted state, -1 per row leaving it. A transition table
-- exists only for the events that have it, and PL/pgSQL plans a query when it first runs, so each event has its
-- own query.
CREATE FUNCTION herald_count_unread() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audience_unread AS c (audience, unread)
        SELECT audience, count(*) FROM new_rows WHERE read_at IS NULL
        GROUP BY audience ORDER BY audience
        ON CONFLICT (audience) DO UPDATE SET unread = c.unread + excluded.unread;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audience_unread AS c (audience, unread)
        SELECT audience, -count(*) FROM old_rows WHERE read_at IS NULL
        GROUP BY audience ORDER BY audience
        ON CONFLICT (audience) DO UPDATE SET unread = c.unread + excluded.unread;
    ELSE
        INSERT INTO audience_unread AS c (audience, unread)
        SELECT d.audience, sum(d.delta) FROM (
            SELECT audience, 1 AS delta FROM new_rows WHERE read_at IS NULL
            UNION ALL
            SELECT audience, -1 FROM old_rows WHERE read_at IS NULL
        ) d
        GROUP BY d.audience HAVING sum(d.delta) <> 0 ORDER BY d.audience
        ON CONFLICT (audience) DO UPDATE SET unread = c.unread + excluded.unread;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION herald_count_hidden() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO receipt_hidden AS c (user_id, audience, hidden)
        SELECT user_id, audience, count(*) FROM new_rows WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL
        GROUP BY user_id, audience ORDER BY user_id, audience
        ON CONFLICT (user_id, audience) DO UPDATE SET hidden = c.hidden + excluded.hidden;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO receipt_hidden AS c (user_id, audience, hidden)
        SELECT user_id, audience, -count(*) FROM old_rows WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL
        GROUP BY user_id, audience ORDER BY user_id, audience
        ON CONFLICT (user_id, audience) DO UPDATE SET hidden = c.hidden + excluded.hidden;
    ELSE
        INSERT INTO receipt_hidden AS c (user_id, audience, hidden)
        SELECT d.user_id, d.audience, sum(d.delta) FROM (
            SELECT user_id, audience, 1 AS delta FROM new_rows WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL
            UNION ALL
            SELECT user_id, audience, -1 FROM old_rows WHERE read_at IS NOT NULL OR deleted_at IS NOT NULL
        ) d
        GROUP BY d.user_id, d.audience HAVING sum(d.delta) <> 0 ORDER BY d.user_id, d.audience
        ON CONFLICT (user_id, audience) DO UPDATE SET hidden = c.hidden + excluded.hidden;
    END IF;
    RETURN NULL;
END $$;

-- A transition table may belong to one event only, hence a trigger per event.
CREATE TRIGGER notifications_count_insert AFTER INSERT ON notifications
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_unread();
CREATE TRIGGER notifications_count_update AFTER UPDATE ON notifications
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_unread();
CREATE TRIGGER notifications_count_delete AFTER DELETE ON notifications
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_unread();
CREATE TRIGGER receipts_count_insert AFTER INSERT ON notification_receipts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_hidden();
CREATE TRIGGER receipts_count_update AFTER UPDATE ON notification_receipts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_hidden();
CREATE TRIGGER receipts_count_delete AFTER DELETE ON notification_receipts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION herald_count_hidden();

-- Expired but not yet swept, unread: the one part of a count that is still read from rows. The sweep deletes
-- expired notifications, so this range holds at most a sweep interval's worth.
CREATE INDEX notifications_unread_expiring ON notifications (audience, expires_at)
    WHERE read_at IS NULL AND expires_at IS NOT NULL;

-- What `p_user`, whose audiences are `p_audiences`, has unread: unexpired, not read, not deleted.
CREATE FUNCTION herald_unread_count(p_user text, p_audiences text[]) RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT coalesce(sum(unread), 0) FROM audience_unread WHERE audience = ANY(p_audiences))
         - (SELECT coalesce(sum(hidden), 0) FROM receipt_hidden
            WHERE user_id = p_user AND audience = ANY(p_audiences))
         - (SELECT count(*) FROM notifications n
            WHERE n.audience = ANY(p_audiences) AND n.read_at IS NULL AND n.expires_at <= now()
              AND NOT EXISTS (
                  SELECT 1 FROM notification_receipts r
                  WHERE r.user_id = p_user AND r.notification_id = n.id
                    AND (r.read_at IS NOT NULL OR r.deleted_at IS NOT NULL)));
