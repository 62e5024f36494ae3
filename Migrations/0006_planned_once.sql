-- Counts planned once per connection, not on every call (issue 12). The unread count is the most frequent REST
-- read, and clear asks for the visible count. As SQL functions with subqueries, PostgreSQL cannot inline them and
-- plans their bodies afresh on every call: 0.25 ms of the count's 0.33 ms in PostgreSQL went to planning. PL/pgSQL
-- keeps each statement's plan for the session, and Herald's pooled connections use generic plans
-- (`plan_cache_mode = force_generic_plan`, DatabaseURL), which QueryPlanTests holds to one index range per
-- audience on every shape of data.
--
-- The formulas are Migrations/0003's, unchanged: for user U over audiences A, with the watermarks of inbox_marks,
--     unread  = unread(A) - (below + hidden - pinned)(U, A) - the expired rows not yet swept that U has unread
--     visible = total(A) - (gone + deleted)(U, A)           - the expired rows not yet swept that U still sees
-- Both only read, so they take no lock.

CREATE OR REPLACE FUNCTION herald_unread_count(p_user text, p_audiences text[]) RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
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
END
$$;

CREATE OR REPLACE FUNCTION herald_visible_count(p_user text, p_audiences text[]) RETURNS bigint
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN
    RETURN (SELECT coalesce(sum(c.total), 0) FROM audience_counts c WHERE c.audience = ANY(p_audiences))
         - (SELECT coalesce(sum(m.gone + m.deleted), 0) FROM inbox_marks m
            WHERE m.user_id = p_user AND m.audience = ANY(p_audiences))
         - (SELECT count(*) FROM notifications n
            LEFT JOIN inbox_marks m ON m.user_id = p_user AND m.audience = n.audience
            LEFT JOIN notification_receipts r ON r.user_id = p_user AND r.notification_id = n.id
            WHERE n.audience = ANY(p_audiences) AND n.expires_at <= now()
              AND n.id > coalesce(m.cleared_through, 0) AND r.deleted_at IS NULL);
END
$$;
