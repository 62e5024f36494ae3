import Logging
import PostgresNIO

/// All SQL against the inbox tables (with ``InboxPageStatement`` and ``PublishOneStatement``, the statements it
/// prepares). Every value is bound; the only text spliced into a statement is ``InboxItem/columns`` and the fixed
/// visibility predicate below.
///
/// Visibility is decided in one place, ``visible``: a notification is in a user's inbox when its audience is one
/// of the principal's (own, locations, broadcast), it has not expired, and the user has not deleted it.
public struct InboxStore: Sendable {
    /// Publishes take this transaction-scoped advisory lock from just before their ids are drawn until commit.
    /// Ids are therefore handed out in commit order: when id N is visible, every smaller id is already committed
    /// or rolled back. That is what lets a client resume "after id N" with a single number (SPEC §2, §4), and
    /// what makes NOTIFY, which PostgreSQL delivers in commit order, arrive in id order. The cost is one commit at
    /// a time across publishers; a commit here is ~0.1 ms of fsync, and a publish to many users is one commit.
    static let publishLockKey: Int64 = 0x4845_5241_4C44_5055

    /// `n` is visible to the owner of receipt `r` (already joined) now.
    static let visible = "(n.expires_at IS NULL OR n.expires_at > now()) AND r.deleted_at IS NULL"

    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    // MARK: Reading

    /// The audiences a list request reads: all of the principal's, or only the location it filters on.
    private func audiences(_ principal: Principal, locationID: String?) -> [String] {
        guard let locationID else { return principal.audiences }
        return principal.locations.contains(locationID) ? [Audience.location(locationID)] : []
    }

    /// A page of the inbox, newest first (``InboxPageStatement``).
    public func list(_ principal: Principal, _ filter: InboxFilter) async throws -> [InboxItem] {
        let statement = InboxPageStatement(
            audiences: audiences(principal, locationID: filter.locationID), userID: principal.userID, filter: filter)
        var items: [InboxItem] = []
        items.reserveCapacity(filter.limit)
        for try await item in try await client.execute(statement, logger: logger) {
            items.append(item)
        }
        return items
    }

    /// Unread, unexpired, undeleted notifications the principal can see: a few counter rows, whatever the size of
    /// the inbox (`herald_unread_count`, Migrations/0002).
    public func unreadCount(_ principal: Principal) async throws -> Int {
        try await count("SELECT herald_unread_count(\(principal.userID), \(principal.audiences))")
    }

    /// The unread counts of many users at once, each over their own audiences: one statement for a batch of
    /// sockets instead of one per socket (a thousand connects, or a location notification to a thousand users
    /// whose counts are not cached yet).
    public func unreadCounts(_ principals: [Principal]) async throws -> [String: Int] {
        var users: [String] = []
        var audiences: [String] = []
        for principal in principals {
            for audience in principal.audiences {
                users.append(principal.userID)
                audiences.append(audience)
            }
        }
        let query: PostgresQuery = """
            SELECT u.user_id, herald_unread_count(u.user_id, u.audiences)
            FROM (
                SELECT a.user_id, array_agg(a.audience) AS audiences
                FROM unnest(\(users)::text[], \(audiences)::text[]) AS a(user_id, audience)
                GROUP BY a.user_id
            ) u
            """
        var counts: [String: Int] = [:]
        for try await (user, count) in try await client.query(query, logger: logger).decode((String, Int64).self) {
            counts[user] = Int(count)
        }
        return counts
    }

    /// What a resuming socket missed: up to `limit` visible notifications with ids above `since`, in id order.
    public func replay(_ principal: Principal, after since: Int64, limit: Int) async throws -> [InboxItem] {
        let query: PostgresQuery = """
            SELECT \(unescaped: InboxItem.columns)
            FROM notifications n
            LEFT JOIN notification_receipts r ON r.user_id = \(principal.userID) AND r.notification_id = n.id
            WHERE n.id > \(since) AND n.audience = ANY(\(principal.audiences)) AND \(unescaped: Self.visible)
            ORDER BY n.id
            LIMIT \(limit)
            """
        var items: [InboxItem] = []
        for try await row in try await client.query(query, logger: logger) {
            items.append(try InboxItem(row: row))
        }
        return items
    }

    /// Records `delivered_at` for the acknowledged ids the principal can see (SPEC §4 `ack`).
    public func markDelivered(_ principal: Principal, ids: [Int64]) async throws {
        let query: PostgresQuery = """
            WITH target AS (
                SELECT n.id, n.audience, n.user_id IS NOT NULL AS personal FROM notifications n
                WHERE n.id = ANY(\(ids)) AND n.audience = ANY(\(principal.audiences))
            ), personal AS (
                UPDATE notifications SET delivered_at = coalesce(delivered_at, now())
                WHERE id IN (SELECT id FROM target WHERE personal) RETURNING id
            )
            INSERT INTO notification_receipts AS receipt (user_id, notification_id, audience, delivered_at)
            SELECT \(principal.userID), id, audience, now() FROM target WHERE NOT personal
            ON CONFLICT (user_id, notification_id) DO UPDATE SET delivered_at = coalesce(receipt.delivered_at, now())
            """
        try await client.query(query, logger: logger)
    }

    // MARK: Per-recipient state

    /// What a state change does: to a personal row itself, or to the caller's receipt for a shared one.
    public enum Change: Sendable {
        case read
        case unread
        case delete

        /// The SQL fragments of each branch: the personal statement (before its WHERE), the `read_at, deleted_at`
        /// of a new receipt, and the SET of an existing one. Fixed text, no values.
        var statements: (personal: String, newReceipt: String, existingReceipt: String) {
            switch self {
            case .read:
                return (
                    "UPDATE notifications SET read_at = coalesce(read_at, now())", "now(), NULL",
                    "read_at = coalesce(receipt.read_at, now())"
                )
            case .unread:
                return ("UPDATE notifications SET read_at = NULL", "NULL, NULL", "read_at = NULL")
            case .delete:
                return ("DELETE FROM notifications", "NULL, now()", "deleted_at = now()")
            }
        }
    }

    /// Applies `change` to notification `id` if the principal can see it; `false` if it cannot (404).
    public func apply(_ change: Change, id: Int64, for principal: Principal) async throws -> Bool {
        let statements = change.statements
        let query: PostgresQuery = """
            WITH target AS (
                SELECT n.id, n.audience, n.user_id IS NOT NULL AS personal
                FROM notifications n
                LEFT JOIN notification_receipts r ON r.user_id = \(principal.userID) AND r.notification_id = n.id
                WHERE n.id = \(id) AND n.audience = ANY(\(principal.audiences)) AND \(unescaped: Self.visible)
            ), personal AS (
                \(unescaped: statements.personal) WHERE id IN (SELECT id FROM target WHERE personal) RETURNING id
            ), shared AS (
                INSERT INTO notification_receipts AS receipt (user_id, notification_id, audience, read_at, deleted_at)
                SELECT \(principal.userID), id, audience, \(unescaped: statements.newReceipt) FROM target
                WHERE NOT personal
                ON CONFLICT (user_id, notification_id) DO UPDATE SET \(unescaped: statements.existingReceipt)
                RETURNING notification_id
            )
            SELECT (SELECT count(*) FROM personal) + (SELECT count(*) FROM shared)
            """
        return try await count(query) > 0
    }

    /// Rows read-all marks per statement for personal notifications.
    public static let readAllBatch = 5000

    /// Marks every visible unread notification read, optionally only those of one `type`, one location, or
    /// below id `before`. Returns how many changed.
    ///
    /// Personal rows go in batches of ``readAllBatch`` taken in id order from the unread index. One statement for a
    /// whole inbox would lock every row at once, and PostgreSQL, estimating `audience = X AND read_at IS NULL` from
    /// whole-table statistics, plans it as a sequential scan for a user with a large share of the table; the
    /// `LIMIT` keeps each batch on the index.
    public func markAllRead(
        _ principal: Principal, type: String?, locationID: String?, before: Int64?
    ) async throws -> Int {
        let before = before ?? Int64.max
        var updated = 0
        if locationID == nil {
            while true {
                let batch = try await count(
                    Self.personalReadAllBatch(audience: Audience.user(principal.userID), type: type, before: before))
                updated += batch
                if batch < Self.readAllBatch { break }
            }
        }
        let shared = audiences(principal, locationID: locationID).filter { $0 != Audience.user(principal.userID) }
        let query: PostgresQuery = """
            WITH shared AS (
                INSERT INTO notification_receipts AS receipt (user_id, notification_id, audience, read_at)
                SELECT \(principal.userID), n.id, n.audience, now()
                FROM notifications n
                LEFT JOIN notification_receipts r ON r.user_id = \(principal.userID) AND r.notification_id = n.id
                WHERE n.audience = ANY(\(shared)) AND \(unescaped: Self.visible) AND r.read_at IS NULL
                  AND n.id < \(before) AND (\(type)::text IS NULL OR n.type = \(type))
                ON CONFLICT (user_id, notification_id) DO UPDATE SET read_at = excluded.read_at
                RETURNING notification_id
            )
            SELECT count(*) FROM shared
            """
        return updated + (try await count(query))
    }

    /// One batch of personal read-all: the oldest ``readAllBatch`` unread rows that match, marked read.
    public static func personalReadAllBatch(audience: String, type: String?, before: Int64) -> PostgresQuery {
        """
        WITH batch AS (
            SELECT n.id FROM notifications n
            WHERE n.audience = \(audience) AND n.read_at IS NULL AND (n.expires_at IS NULL OR n.expires_at > now())
              AND n.id < \(before) AND (\(type)::text IS NULL OR n.type = \(type))
            ORDER BY n.id
            LIMIT \(readAllBatch)
        ), marked AS (
            UPDATE notifications SET read_at = now()
            WHERE id IN (SELECT id FROM batch) AND read_at IS NULL
            RETURNING 1
        )
        SELECT count(*) FROM marked
        """
    }

    /// Deletes the principal's personal notifications and hides every shared one from them. Returns how many
    /// visible notifications went.
    public func clear(_ principal: Principal) async throws -> Int {
        let query: PostgresQuery = """
            WITH personal AS (
                DELETE FROM notifications n WHERE n.audience = \(Audience.user(principal.userID))
                RETURNING n.expires_at IS NULL OR n.expires_at > now() AS visible
            ), shared AS (
                INSERT INTO notification_receipts AS receipt (user_id, notification_id, audience, deleted_at)
                SELECT \(principal.userID), n.id, n.audience, now()
                FROM notifications n
                LEFT JOIN notification_receipts r ON r.user_id = \(principal.userID) AND r.notification_id = n.id
                WHERE n.audience = ANY(\(principal.sharedAudiences)) AND \(unescaped: Self.visible)
                ON CONFLICT (user_id, notification_id) DO UPDATE SET deleted_at = excluded.deleted_at
                RETURNING notification_id
            )
            SELECT (SELECT count(*) FROM personal WHERE visible) + (SELECT count(*) FROM shared)
            """
        return try await count(query)
    }

    // MARK: Expiry

    /// Rows one sweep statement deletes at most.
    public static let sweepBatch = 5000

    /// Deletes up to ``sweepBatch`` expired notifications and returns how many went. Expired ones are never
    /// listed, counted or delivered (SPEC §2), so deleting them changes nothing a client sees; it keeps the part
    /// of an unread count that is still read from rows (expired, not yet swept) small. Instances sweeping at once
    /// skip each other's rows.
    public func sweepExpired() async throws -> Int {
        try await count(
            """
            WITH doomed AS (
                SELECT id FROM notifications WHERE expires_at <= now()
                ORDER BY expires_at LIMIT \(Self.sweepBatch) FOR UPDATE SKIP LOCKED
            ), swept AS (
                DELETE FROM notifications WHERE id IN (SELECT id FROM doomed) RETURNING 1
            )
            SELECT count(*) FROM swept
            """)
    }

    // MARK: Publishing

    /// Stores `publication` once per recipient (once in all for a location or broadcast) and commits.
    ///
    /// With an idempotency key, the first request's ids are returned to every later one with the same key from
    /// the same publisher, and nothing new is stored; a concurrent duplicate waits on the first one's key row and
    /// then sees its result. With a collapse key, older notifications with that key for the same audience are
    /// deleted in the same transaction, under the publish lock, so two racing publishes cannot both survive.
    public func publish(_ publication: Publication) async throws -> PublishResult {
        if publication.idempotencyKey == nil, publication.collapseKey == nil, publication.target.audiences.count == 1 {
            return PublishResult(ids: [try await publishOne(publication)], replayed: false, replaced: [])
        }
        return try await client.withTransaction(logger: logger) { connection in
            if let key = publication.idempotencyKey {
                let claimed = try await connection.query(
                    """
                    INSERT INTO publish_requests (publisher, idempotency_key, ids)
                    VALUES (\(publication.publisher), \(key), '{}') ON CONFLICT DO NOTHING RETURNING 1
                    """, logger: logger)
                var fresh = false
                for try await _ in claimed { fresh = true }
                if !fresh {
                    let earlier = try await connection.query(
                        """
                        SELECT ids FROM publish_requests
                        WHERE publisher = \(publication.publisher) AND idempotency_key = \(key)
                        """, logger: logger)
                    for try await ids in earlier.decode([Int64].self) {
                        return PublishResult(ids: ids, replayed: true, replaced: [])
                    }
                }
            }
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.publishLockKey))", logger: logger)
            var replaced: [Int64] = []
            if let collapseKey = publication.collapseKey {
                let deleted = try await connection.query(
                    """
                    DELETE FROM notifications
                    WHERE audience = ANY(\(publication.target.audiences)) AND collapse_key = \(collapseKey)
                    RETURNING id
                    """, logger: logger)
                for try await id in deleted.decode(Int64.self) { replaced.append(id) }
            }
            let notifications = try await insert(publication, replacedOthers: !replaced.isEmpty, on: connection)
            let ids = notifications.map(\.id)
            // NOTIFY inside the transaction: PostgreSQL delivers it at commit, in commit order, to every instance.
            for payload in FanoutMessage.payloads(for: notifications) {
                try await connection.query(
                    "SELECT pg_notify(\(FanoutMessage.channel), \(payload))", logger: logger)
            }
            if let key = publication.idempotencyKey {
                try await connection.query(
                    """
                    UPDATE publish_requests SET ids = \(ids)
                    WHERE publisher = \(publication.publisher) AND idempotency_key = \(key)
                    """, logger: logger)
            }
            return PublishResult(ids: ids, replayed: false, replaced: replaced)
        }
    }

    /// The common publish, one notification with neither key: one statement in its own transaction
    /// (``PublishOneStatement``), one round trip where the general path needs BEGIN, lock, insert, NOTIFY and
    /// COMMIT, with the publish lock held for that one statement and its commit.
    private func publishOne(_ publication: Publication) async throws -> Int64 {
        let expiresAt = publication.expiresAt.map { Timestamp.string($0) }
        let statement = PublishOneStatement(
            publication: publication, lockKey: Self.publishLockKey, expiresAt: expiresAt,
            entry: NotifyEntryTemplate(publication, expiresAt: expiresAt, publishedAt: Timestamp.microsecondsNow()))
        for try await id in try await client.execute(statement, logger: logger) {
            return id
        }
        throw HeraldError.unavailable("the database stored nothing; publish again")
    }

    /// Inserts the rows and returns them as they go to sockets, in id order.
    private func insert(
        _ publication: Publication, replacedOthers: Bool, on connection: PostgresConnection
    ) async throws -> [LiveNotification] {
        let users: [String]
        let locationID: String?
        switch publication.target {
        case .users(let ids): (users, locationID) = (ids, nil)
        case .location(let id): (users, locationID) = ([], id)
        case .broadcast: (users, locationID) = ([], nil)
        }
        let p = publication
        // Sent as the ISO text clients see, so the stored instant is exactly the one that was validated.
        let expiresAt = p.expiresAt.map { Timestamp.string($0) }
        let insert: PostgresQuery
        if users.isEmpty {
            insert = """
                WITH n AS (
                    INSERT INTO notifications (type, priority, title, message, data, action_url, location_id,
                                               broadcast, collapse_key, publisher, expires_at)
                    VALUES (\(p.type), \(p.priority), \(p.title), \(p.message), \(p.dataJSON)::jsonb, \(p.actionURL),
                            \(locationID), \(locationID == nil), \(p.collapseKey), \(p.publisher),
                            \(expiresAt)::timestamptz)
                    RETURNING *
                )
                SELECT \(unescaped: Self.liveColumns) FROM n LEFT JOIN notification_receipts r ON false ORDER BY n.id
                """
        } else {
            insert = """
                WITH n AS (
                    INSERT INTO notifications (type, priority, title, message, data, action_url, user_id,
                                               collapse_key, publisher, expires_at)
                    SELECT \(p.type), \(p.priority), \(p.title), \(p.message), \(p.dataJSON)::jsonb, \(p.actionURL),
                           u.user_id, \(p.collapseKey), \(p.publisher), \(expiresAt)::timestamptz
                    FROM unnest(\(users)::text[]) WITH ORDINALITY AS u(user_id, position)
                    ORDER BY u.position
                    RETURNING *
                )
                SELECT \(unescaped: Self.liveColumns) FROM n LEFT JOIN notification_receipts r ON false ORDER BY n.id
                """
        }
        var notifications: [LiveNotification] = []
        notifications.reserveCapacity(max(users.count, 1))
        for try await row in try await connection.query(insert, logger: logger) {
            notifications.append(try Self.liveNotification(row, replacedOthers: replacedOthers))
        }
        return notifications
    }

    /// ``InboxItem/columns`` plus the routing columns of a ``LiveNotification``.
    static let liveColumns =
        InboxItem.columns + ", n.audience, (extract(epoch FROM n.expires_at) * 1000)::bigint"

    /// Reads a row selected with ``liveColumns``.
    static func liveNotification(_ row: PostgresRow, replacedOthers: Bool) throws -> LiveNotification {
        let item = try InboxItem(row: row)
        let columns = row.makeRandomAccess()
        var writer = JSONWriter(reservingCapacity: 512)
        item.write(to: &writer)
        return LiveNotification(
            id: item.id, audience: try columns[13].decode(String.self),
            type: item.type, expiresAtMillis: try columns[14].decode(Int64?.self), itemJSON: writer.string,
            replacedOthers: replacedOthers)
    }

    private func count(_ query: PostgresQuery) async throws -> Int {
        for try await value in try await client.query(query, logger: logger).decode(Int.self) {
            return value
        }
        return 0
    }
}
