import Logging
import PostgresNIO

/// The SQL of one user's inbox: pages, counts, the socket replay and acks, and every change a recipient makes
/// (with ``InboxPageStatement`` and ``UnreadPageStatement``, the statements it prepares). Every value is bound;
/// the only text spliced into a statement is the column lists below and fixed fragments.
///
/// Visibility and read state follow Migrations/0003: a notification is in a user's inbox when its audience is
/// one of the principal's (own, locations, broadcast), it has not expired, it is above the user's cleared
/// watermark for that audience and no receipt of the user deletes it. Read-all and clear move watermarks
/// (``markAllRead(_:type:locationID:before:)``, ``clear(_:)``), so they write a row per audience, not per
/// notification.
public struct InboxStore: Sendable {
    /// The SELECT list for notification `n` as one recipient sees it, with that recipient's receipt `r` and marks
    /// `m` left-joined (``InboxPage`` and ``InboxItem/init(row:)`` read it). A notification a read-all covers is
    /// read unless the recipient marked it unread since, and its `read_at` is the time of the recipient's latest
    /// read-all there.
    /// Timestamps come as binary `timestamptz` and are formatted in Swift (``TimestampColumn``).
    static let recipientColumns = """
        n.id, n.type, n.priority, n.title, n.message, n.data::text,
        coalesce(n.read_at, r.read_at,
            CASE WHEN n.id <= m.read_through AND NOT coalesce(r.marked_unread, false) THEN m.read_at END),
        n.created_at, n.action_url, n.location_id, n.expires_at,
        coalesce(n.delivered_at, r.delivered_at), n.collapse_key
        """

    /// The same list for a notification as it is before anyone acts on it, which is what live delivery sends.
    static let freshColumns = """
        n.id, n.type, n.priority, n.title, n.message, n.data::text, n.read_at,
        n.created_at, n.action_url, n.location_id, n.expires_at,
        n.delivered_at, n.collapse_key
        """

    /// ``freshColumns`` and the routing columns of a ``LiveNotification`` (``LiveNotification/init(row:replacedOthers:)``).
    static let liveColumns = freshColumns + ", n.audience, (extract(epoch FROM n.expires_at) * 1000)::bigint"

    /// The newest notification id, as a column of the statement that counts: in the same snapshot as the count,
    /// it is the `last_id` the count includes (``UnreadCount``).
    static let newestID = "(SELECT coalesce(max(id), 0) FROM notifications)"

    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    // MARK: Reading

    /// The audiences a request reads: all of the principal's, or only the location it filters on.
    private func audiences(_ principal: Principal, locationID: String?) -> [String] {
        guard let locationID else { return principal.audiences }
        return principal.locations.contains(locationID) ? [Audience.location(locationID)] : []
    }

    /// A page of the inbox, newest first (``InboxPageStatement``, or ``UnreadPageStatement`` for unread only).
    public func list(_ principal: Principal, _ filter: InboxFilter) async throws -> InboxPage {
        try await list(principal, filter, on: client)
    }

    func list(_ principal: Principal, _ filter: InboxFilter, on runner: some StatementRunner) async throws
        -> InboxPage
    {
        let page = InboxPageParameters(
            audiences: audiences(principal, locationID: filter.locationID), userID: principal.userID, filter: filter)
        let rows =
            filter.unreadOnly
            ? try await runner.rows(UnreadPageStatement(page: page), logger: logger, file: #fileID, line: #line)
            : try await runner.rows(InboxPageStatement(page: page), logger: logger, file: #fileID, line: #line)
        return try InboxPage(rows: rows)
    }

    /// Unread, unexpired, visible notifications of the principal: a few counter rows, whatever the size of the
    /// inbox (`herald_unread_count`, Migrations/0003), with the newest id that count includes, read in the same
    /// snapshot (``UnreadCount``).
    public func unreadCount(_ principal: Principal) async throws -> UnreadCount {
        try await unreadCount(principal, on: client)
    }

    func unreadCount(_ principal: Principal, on runner: some StatementRunner) async throws -> UnreadCount {
        let statement = UnreadCountStatement(userID: principal.userID, audiences: principal.audiences)
        return try await runner.rows(statement, logger: logger, file: #fileID, line: #line).first
            ?? UnreadCount(count: 0, lastID: 0)
    }

    private static func unreadCount(
        _ user: String, _ audiences: [String], on runner: some StatementRunner, logger: Logger
    ) async throws -> Int {
        try await runner.value("SELECT herald_unread_count(\(user), \(audiences))", as: Int.self, logger: logger) ?? 0
    }

    /// The unread counts of many users at once, each over their own audiences: one statement for a batch of
    /// sockets instead of one per socket (a thousand sockets whose count a collapse, an expiry or a listener gap
    /// changed).
    public func unreadCounts(_ principals: [Principal]) async throws -> [String: UnreadCount] {
        var users: [String] = []
        var audiences: [String] = []
        for principal in principals {
            for audience in principal.audiences {
                users.append(principal.userID)
                audiences.append(audience)
            }
        }
        let rows = try await client.rows(
            """
            SELECT u.user_id, herald_unread_count(u.user_id, u.audiences), \(unescaped: Self.newestID)
            FROM (
                SELECT a.user_id, array_agg(a.audience) AS audiences
                FROM unnest(\(users)::text[], \(audiences)::text[]) AS a(user_id, audience)
                GROUP BY a.user_id
            ) u
            """, as: (String, Int, Int64).self, logger: logger)
        var counts: [String: UnreadCount] = [:]
        for (user, count, lastID) in rows where counts[user] == nil {
            counts[user] = UnreadCount(count: count, lastID: lastID)
        }
        return counts
    }

    /// What a resuming socket missed: up to `limit` visible notifications with ids above `since`, in id order.
    /// Like a page, each audience is its own index range, read upwards from `since` and cut at `limit`.
    public func replay(_ principal: Principal, after since: Int64, limit: Int) async throws -> [InboxItem] {
        try await replay(principal, after: since, limit: limit, on: client)
    }

    func replay(_ principal: Principal, after since: Int64, limit: Int, on runner: some StatementRunner)
        async throws -> [InboxItem]
    {
        let user = principal.userID
        let query: PostgresQuery = """
            SELECT \(unescaped: Self.recipientColumns)
            FROM (
                SELECT page.id
                FROM unnest(\(principal.audiences)::text[]) AS a(audience)
                LEFT JOIN inbox_marks m ON m.user_id = \(user) AND m.audience = a.audience
                CROSS JOIN LATERAL (
                    SELECT n.id
                    FROM notifications n
                    LEFT JOIN notification_receipts r ON r.user_id = \(user) AND r.notification_id = n.id
                    WHERE n.audience = a.audience AND n.id > greatest(\(since), m.cleared_through)
                      AND (n.expires_at IS NULL OR n.expires_at > now()) AND r.deleted_at IS NULL
                    ORDER BY n.id
                    LIMIT \(limit)
                ) page
                ORDER BY page.id
                LIMIT \(limit)
            ) page
            JOIN notifications n ON n.id = page.id
            LEFT JOIN notification_receipts r ON r.user_id = \(user) AND r.notification_id = n.id
            LEFT JOIN inbox_marks m ON m.user_id = \(user) AND m.audience = n.audience
            ORDER BY n.id
            """
        return try await runner.rows(query, logger: logger, decode: InboxItem.init(row:))
    }

    // MARK: Per-recipient state

    /// Records `delivered_at` for the acknowledged ids the principal can see (`ack` frames).
    public func markDelivered(_ principal: Principal, ids: [Int64]) async throws {
        try await markDelivered(principal, ids: ids, on: client)
    }

    func markDelivered(_ principal: Principal, ids: [Int64], on runner: some StatementRunner) async throws {
        try await runner.run(
            """
            WITH target AS (
                SELECT n.id, n.audience, n.user_id IS NOT NULL AS personal FROM notifications n
                WHERE n.id = ANY(\(ids)) AND n.audience = ANY(\(principal.audiences))
            ), personal AS (
                UPDATE notifications SET delivered_at = coalesce(delivered_at, now())
                WHERE id IN (SELECT id FROM target WHERE personal) RETURNING id
            )
            INSERT INTO notification_receipts AS receipt (user_id, notification_id, audience, delivered_at)
            SELECT \(principal.userID), id, audience, now() FROM target WHERE NOT personal ORDER BY id
            ON CONFLICT (user_id, notification_id) DO UPDATE SET delivered_at = coalesce(receipt.delivered_at, now())
            """, logger: logger)
    }

    /// What a state change does: to a personal row itself, and to the caller's receipt, which holds the state of
    /// a shared notification and, for any notification, a mark of "unread again" under a read-all.
    public enum Change: Sendable {
        case read
        case unread
        case delete

        /// Fixed SQL fragments: the personal statement (before its WHERE); which targets need a receipt; the
        /// `read_at, deleted_at, marked_unread` of a new receipt; and the SET of an existing one. `target` has
        /// `personal`, `pinned` (the receipt marks it unread) and `covered` (a read-all covers it).
        var fragments: (personal: String, needsReceipt: String, newReceipt: String, existingReceipt: String) {
            switch self {
            case .read:
                return (
                    "UPDATE notifications SET read_at = coalesce(read_at, now())", "NOT personal OR pinned",
                    "CASE WHEN personal THEN NULL ELSE now() END, NULL, false",
                    "read_at = coalesce(receipt.read_at, excluded.read_at), marked_unread = false"
                )
            case .unread:
                return (
                    "UPDATE notifications SET read_at = NULL", "NOT personal OR covered", "NULL, NULL, covered",
                    "read_at = NULL, marked_unread = excluded.marked_unread"
                )
            case .delete:
                return ("DELETE FROM notifications", "NOT personal", "NULL, now(), false", "deleted_at = now()")
            }
        }
    }

    /// Applies `change` to notification `id` if the principal can see it; `false` if it cannot (404).
    public func apply(_ change: Change, id: Int64, for principal: Principal) async throws -> Bool {
        try await apply(change, id: id, for: principal, on: client)
    }

    func apply(_ change: Change, id: Int64, for principal: Principal, on runner: some StatementRunner) async throws
        -> Bool
    {
        let fragments = change.fragments
        let user = principal.userID
        let found = try await runner.value(
            """
            WITH target AS (
                SELECT n.id, n.audience, n.user_id IS NOT NULL AS personal,
                       coalesce(r.marked_unread, false) AS pinned, n.id <= coalesce(m.read_through, 0) AS covered
                FROM notifications n
                LEFT JOIN notification_receipts r ON r.user_id = \(user) AND r.notification_id = n.id
                LEFT JOIN inbox_marks m ON m.user_id = \(user) AND m.audience = n.audience
                WHERE n.id = \(id) AND n.audience = ANY(\(principal.audiences))
                  AND (n.expires_at IS NULL OR n.expires_at > now()) AND r.deleted_at IS NULL
                  AND n.id > coalesce(m.cleared_through, 0)
            ), personal AS (
                \(unescaped: fragments.personal) WHERE id IN (SELECT id FROM target WHERE personal) RETURNING id
            ), receipt AS (
                INSERT INTO notification_receipts AS receipt
                    (user_id, notification_id, audience, read_at, deleted_at, marked_unread)
                SELECT \(user), id, audience, \(unescaped: fragments.newReceipt) FROM target
                WHERE \(unescaped: fragments.needsReceipt)
                ON CONFLICT (user_id, notification_id) DO UPDATE SET \(unescaped: fragments.existingReceipt)
                RETURNING notification_id
            )
            SELECT count(*) FROM target
            """, as: Int.self, logger: logger)
        return (found ?? 0) > 0
    }

    /// Marks every visible unread notification read, optionally only those of one `type`, one location, or below
    /// id `before`. Returns how many changed: the unread count before less the count after, both taken under the
    /// locks that keep publishes and sweeps of these audiences out of the way.
    ///
    /// Without `type` it moves the read watermark of each audience, a few rows whatever the audience holds. With
    /// `type` it marks the matching rows above the watermarks one by one (and those marked unread under them),
    /// which costs what they number.
    public func markAllRead(
        _ principal: Principal, type: String?, locationID: String?, before: Int64?
    ) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            try await markAllRead(principal, type: type, locationID: locationID, before: before, in: connection)
        }
    }

    /// ``markAllRead(_:type:locationID:before:)`` inside a transaction the caller holds on `connection`.
    func markAllRead(
        _ principal: Principal, type: String?, locationID: String?, before: Int64?, in connection: PostgresConnection
    ) async throws -> Int {
        let audiences = audiences(principal, locationID: locationID)
        guard !audiences.isEmpty else { return 0 }
        let user = principal.userID
        let under = before ?? Int64.max
        try await Self.lockCounters(audiences, on: connection, logger: logger)
        let unreadBefore = try await Self.unreadCount(user, audiences, on: connection, logger: logger)
        if let type {
            try await Self.markRead(user, audiences, type: type, under: under, on: connection, logger: logger)
        } else {
            try await Self.moveReadMark(user, audiences, under: under, on: connection, logger: logger)
        }
        return unreadBefore - (try await Self.unreadCount(user, audiences, on: connection, logger: logger))
    }

    /// Locks the counters of `audiences` in key order (Migrations/0003's lock order): publishes and deletions in
    /// them wait until this transaction ends, so the watermarks it sets and the counts it computes agree.
    private static func lockCounters(
        _ audiences: [String], on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.run(
            "SELECT 1 FROM audience_counts WHERE audience = ANY(\(audiences)) ORDER BY audience FOR UPDATE",
            logger: logger)
    }

    /// Creates the user's marks for `audiences` if missing and locks them in key order.
    private static func lockMarks(
        _ user: String, _ audiences: [String], on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.run(
            """
            INSERT INTO inbox_marks (user_id, audience)
            SELECT \(user), a.audience FROM unnest(\(audiences)::text[]) AS a(audience) ORDER BY 2
            ON CONFLICT DO NOTHING
            """, logger: logger)
        try await connection.run(
            """
            SELECT 1 FROM inbox_marks WHERE user_id = \(user) AND audience = ANY(\(audiences))
            ORDER BY audience FOR UPDATE
            """, logger: logger)
    }

    /// The watermark path of read-all: per audience, everything up to the newest row under `under` is read.
    private static func moveReadMark(
        _ user: String, _ audiences: [String], under: Int64, on connection: PostgresConnection, logger: Logger
    ) async throws {
        // Where each audience's read watermark goes: the newest row below `under`, never past the newest row, so
        // that notifications published later stay unread. The counters' locks keep the newest row where it is.
        let targets = try await connection.rows(
            """
            SELECT a.audience, least(\(under) - 1, (
                       SELECT coalesce(max(n.id), 0) FROM notifications n WHERE n.audience = a.audience))
            FROM unnest(\(audiences)::text[]) AS a(audience)
            """, as: (String, Int64).self, logger: logger)
        let names = targets.map(\.0)
        let ids = targets.map(\.1)
        // Receipts marked unread are locked before the marks, as every receipt writer takes them.
        try await connection.run(
            """
            SELECT 1 FROM notification_receipts
            WHERE user_id = \(user) AND audience = ANY(\(audiences)) AND marked_unread
            ORDER BY notification_id FOR UPDATE
            """, logger: logger)
        try await lockMarks(user, audiences, on: connection, logger: logger)
        try await connection.run(
            """
            UPDATE notification_receipts r SET marked_unread = false
            FROM unnest(\(names)::text[], \(ids)::bigint[]) AS t(audience, target)
            WHERE r.user_id = \(user) AND r.audience = t.audience AND r.marked_unread
              AND r.notification_id <= t.target
            """, logger: logger)
        // The counters outright for the new watermark W: the unread-state rows at or under W are all but those
        // above it (an index range, empty when W is the newest row), and receipts count only above W.
        try await connection.run(
            """
            UPDATE inbox_marks m
            SET read_through = t.target, read_at = now(),
                below = coalesce(c.unread, 0) - (
                    SELECT count(*) FROM notifications n
                    WHERE n.audience = m.audience AND n.read_at IS NULL
                      AND n.id > greatest(t.target, m.cleared_through)),
                hidden = (
                    SELECT count(*) FROM notification_receipts r
                    WHERE r.user_id = m.user_id AND r.audience = m.audience
                      AND r.notification_id > greatest(t.target, m.cleared_through)
                      AND (r.read_at IS NOT NULL OR r.deleted_at IS NOT NULL))
            FROM unnest(\(names)::text[], \(ids)::bigint[]) AS t(audience, target)
            LEFT JOIN audience_counts c ON c.audience = t.audience
            WHERE m.user_id = \(user) AND m.audience = t.audience AND t.target > m.read_through
            """, logger: logger)
    }

    /// The row path of read-all, for a `type` filter: rows above the watermarks, and rows marked unread under them.
    private static func markRead(
        _ user: String, _ audiences: [String], type: String, under: Int64, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        let personal = Audience.user(user)
        // Receipts marked unread, locked before anything else writes a mark.
        try await connection.run(
            """
            SELECT 1 FROM notification_receipts
            WHERE user_id = \(user) AND audience = ANY(\(audiences)) AND marked_unread
            ORDER BY notification_id FOR UPDATE
            """, logger: logger)
        if audiences.contains(personal) {
            // Personal rows keep their state on the row: those above the watermarks, and those marked unread under
            // them.
            try await connection.run(
                """
                UPDATE notifications n SET read_at = now()
                FROM (SELECT coalesce(max(greatest(m.read_through, m.cleared_through)), 0) AS w
                      FROM inbox_marks m WHERE m.user_id = \(user) AND m.audience = \(personal)) k
                WHERE n.audience = \(personal) AND n.read_at IS NULL AND n.id > k.w AND n.id < \(under)
                  AND n.type = \(type) AND (n.expires_at IS NULL OR n.expires_at > now())
                """, logger: logger)
            try await connection.run(
                """
                UPDATE notifications n SET read_at = now()
                FROM notification_receipts r
                WHERE r.user_id = \(user) AND r.audience = \(personal) AND r.marked_unread
                  AND n.id = r.notification_id AND n.read_at IS NULL AND n.type = \(type) AND n.id < \(under)
                  AND (n.expires_at IS NULL OR n.expires_at > now())
                """, logger: logger)
        }
        // Marked-unread receipts of this type are read now; a shared one keeps its state on the receipt.
        try await connection.run(
            """
            UPDATE notification_receipts r
            SET marked_unread = false,
                read_at = CASE WHEN r.audience = \(personal) THEN NULL ELSE coalesce(r.read_at, now()) END
            FROM notifications n
            WHERE r.user_id = \(user) AND r.audience = ANY(\(audiences)) AND r.marked_unread
              AND n.id = r.notification_id AND n.type = \(type) AND n.id < \(under)
              AND (n.expires_at IS NULL OR n.expires_at > now()) AND r.deleted_at IS NULL
            """, logger: logger)
        let shared = audiences.filter { $0 != personal }
        guard !shared.isEmpty else { return }
        try await connection.run(
            """
            INSERT INTO notification_receipts AS receipt (user_id, notification_id, audience, read_at)
            SELECT \(user), n.id, n.audience, now()
            FROM unnest(\(shared)::text[]) AS a(audience)
            LEFT JOIN inbox_marks m ON m.user_id = \(user) AND m.audience = a.audience
            JOIN notifications n ON n.audience = a.audience
             AND n.id > greatest(m.read_through, m.cleared_through, 0) AND n.id < \(under)
            LEFT JOIN notification_receipts r ON r.user_id = \(user) AND r.notification_id = n.id
            WHERE n.type = \(type) AND (n.expires_at IS NULL OR n.expires_at > now())
              AND r.read_at IS NULL AND r.deleted_at IS NULL
            ORDER BY n.id
            ON CONFLICT (user_id, notification_id) DO UPDATE SET read_at = excluded.read_at
            """, logger: logger)
    }

    /// Hides every visible notification from the principal by moving the cleared watermark of each audience to
    /// its newest row. Returns how many visible notifications went. The principal's own rows are deleted later,
    /// a batch at a time, by ``InboxSweeper``.
    public func clear(_ principal: Principal) async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            try await clear(principal, in: connection)
        }
    }

    /// ``clear(_:)`` inside a transaction the caller holds on `connection`.
    func clear(_ principal: Principal, in connection: PostgresConnection) async throws -> Int {
        let audiences = principal.audiences
        let user = principal.userID
        try await Self.lockCounters(audiences, on: connection, logger: logger)
        try await Self.lockMarks(user, audiences, on: connection, logger: logger)
        let visible =
            try await connection.value(
                "SELECT herald_visible_count(\(user), \(audiences))", as: Int.self, logger: logger) ?? 0
        // Every row of the audience is at or under its newest, so the counters are the audience's own, and no
        // receipt is above the watermark any more.
        try await connection.run(
            """
            UPDATE inbox_marks m
            SET cleared_through = t.last, cleared_at = now(),
                purged_through = CASE WHEN m.audience = 'u:' || m.user_id THEN m.purged_through ELSE t.last END,
                below = c.unread, gone = c.total, hidden = 0, deleted = 0, pinned = 0
            FROM (
                SELECT a.audience, (
                    SELECT coalesce(max(n.id), 0) FROM notifications n WHERE n.audience = a.audience) AS last
                FROM unnest(\(audiences)::text[]) AS a(audience)
            ) t
            JOIN audience_counts c ON c.audience = t.audience
            WHERE m.user_id = \(user) AND m.audience = t.audience AND t.last > m.cleared_through
            """, logger: logger)
        return visible
    }
}
