import PostgresNIO

/// The unread page (`/notifications/unread`, `unread_only`), prepared like ``InboxPageStatement``.
///
/// Per audience it merges two index ranges: unread rows above the recipient's watermarks (the unread index, so
/// rows read one by one are not even looked at for personal notifications), and the few receipts the recipient
/// marked unread under the read watermark.
struct UnreadPageStatement: PostgresPreparedStatement {
    /// Spelled out: postgres-nio's default, `String(reflecting:)`, is built again at every execution.
    static let name = "HeraldServer.UnreadPageStatement"

    /// The row as it came: ``InboxPage`` writes its JSON straight from the cells.
    typealias Row = PostgresRow

    static let sql = """
        SELECT \(InboxStore.recipientColumns)
        FROM (
            SELECT page.id
            FROM unnest($1::text[]) AS a(audience)
            LEFT JOIN inbox_marks m ON m.user_id = $2 AND m.audience = a.audience
            CROSS JOIN LATERAL (
                (SELECT n.id
                 FROM notifications n
                 LEFT JOIN notification_receipts r ON r.user_id = $2 AND r.notification_id = n.id
                 WHERE n.audience = a.audience AND n.read_at IS NULL AND n.id < $3
                   AND n.id > greatest(m.read_through, m.cleared_through, 0)
                   AND (n.expires_at IS NULL OR n.expires_at > now())
                   AND r.read_at IS NULL AND r.deleted_at IS NULL
                   AND ($4::text IS NULL OR n.type = $4)
                   AND ($5::text IS NULL OR n.priority = $5)
                 ORDER BY n.id DESC
                 LIMIT $6)
                UNION ALL
                (SELECT n.id
                 FROM notification_receipts r
                 JOIN notifications n ON n.id = r.notification_id
                 WHERE r.user_id = $2 AND r.audience = a.audience AND r.marked_unread
                   AND r.notification_id > coalesce(m.cleared_through, 0)
                   AND r.notification_id <= coalesce(m.read_through, 0) AND r.notification_id < $3
                   AND r.deleted_at IS NULL AND n.read_at IS NULL
                   AND (n.expires_at IS NULL OR n.expires_at > now())
                   AND ($4::text IS NULL OR n.type = $4)
                   AND ($5::text IS NULL OR n.priority = $5)
                 ORDER BY r.notification_id DESC
                 LIMIT $6)
            ) page
            ORDER BY page.id DESC
            LIMIT $7 OFFSET $8
        ) page
        JOIN notifications n ON n.id = page.id
        LEFT JOIN notification_receipts r ON r.user_id = $2 AND r.notification_id = n.id
        LEFT JOIN inbox_marks m ON m.user_id = $2 AND m.audience = n.audience
        ORDER BY n.id DESC
        """

    var page: InboxPageParameters

    func makeBindings() throws -> PostgresBindings { page.bindings }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
