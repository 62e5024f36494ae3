import PostgresNIO

/// ``InboxStore/list(_:_:)``'s query as a named prepared statement: the busiest read, planned once per connection
/// instead of on every request. With an unnamed statement PostgreSQL spent 1.5 ms planning it and 1.1 ms running
/// it for a 50-item page of a million-row inbox.
///
/// Each audience is read as its own index range, newest first, from just under `before` down to the recipient's
/// cleared watermark, cut at `limit + offset`, and the few resulting rows are merged. An `OR` over audiences would
/// instead collect every matching row and sort them, which for a user with a million notifications is a
/// million-row sort per page. The plan stays on that range under PostgreSQL's generic plans too, whatever the
/// shape of the data (Migrations/0003 says why; `QueryPlanTests` checks it).
struct InboxPageStatement: PostgresPreparedStatement {
    /// Spelled out: postgres-nio's default, `String(reflecting:)`, is built again at every execution.
    static let name = "HeraldServer.InboxPageStatement"

    /// The row as it came: ``InboxPage`` writes its JSON straight from the cells.
    typealias Row = PostgresRow

    static let sql = """
        SELECT \(InboxStore.recipientColumns)
        FROM (
            SELECT page.id
            FROM unnest($1::text[]) AS a(audience)
            LEFT JOIN inbox_marks m ON m.user_id = $2 AND m.audience = a.audience
            CROSS JOIN LATERAL (
                SELECT n.id
                FROM notifications n
                LEFT JOIN notification_receipts r ON r.user_id = $2 AND r.notification_id = n.id
                WHERE n.audience = a.audience AND n.id < $3 AND n.id > coalesce(m.cleared_through, 0)
                  AND (n.expires_at IS NULL OR n.expires_at > now()) AND r.deleted_at IS NULL
                  AND ($4::text IS NULL OR n.type = $4)
                  AND ($5::text IS NULL OR n.priority = $5)
                ORDER BY n.id DESC
                LIMIT $6
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
