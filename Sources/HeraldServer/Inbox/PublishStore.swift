import Logging
import PostgresNIO

/// The SQL of publishing: storing a publication once per recipient (once in all for a location or broadcast) and
/// announcing it on the NOTIFY channel in the same transaction (with ``PublishOneStatement``, which it prepares).
public struct PublishStore: Sendable {
    /// Publishes take this transaction-scoped advisory lock from just before their ids are drawn until commit.
    /// Ids are therefore handed out in commit order: when id N is visible, every smaller id is already committed
    /// or rolled back. That is what lets a client resume "after id N" with a single number, and what makes
    /// NOTIFY, which PostgreSQL delivers in commit order, arrive in id order. The cost is one commit at a time
    /// across publishers; a commit here is ~0.1 ms of fsync, and a publish to many users is one commit.
    static let publishLockKey: Int64 = 0x4845_5241_4C44_5055

    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Stores `publication` and commits.
    ///
    /// With an idempotency key, the first request's ids are returned to every later one with the same key from
    /// the same publisher, and nothing new is stored; a concurrent duplicate waits on the first one's key row and
    /// then sees its result. With a collapse key, older notifications with that key from the same publisher for
    /// the same audience are deleted in the same transaction, under the publish lock, so two racing publishes
    /// cannot both survive; another publisher's notifications are never touched.
    public func publish(_ publication: Publication) async throws -> PublishResult {
        if publication.idempotencyKey == nil, publication.collapseKey == nil, publication.target.audiences.count == 1 {
            return PublishResult(ids: [try await publishOne(publication)], replayed: false, replaced: [])
        }
        let logger = logger
        return try await client.withTransaction(logger: logger) { connection in
            if let key = publication.idempotencyKey {
                let fresh = try await connection.value(
                    """
                    INSERT INTO publish_requests (publisher, idempotency_key, ids)
                    VALUES (\(publication.publisher), \(key), '{}') ON CONFLICT DO NOTHING RETURNING 1
                    """, as: Int.self, logger: logger)
                if fresh == nil {
                    let earlier = try await connection.value(
                        """
                        SELECT ids FROM publish_requests
                        WHERE publisher = \(publication.publisher) AND idempotency_key = \(key)
                        """, as: [Int64].self, logger: logger)
                    return PublishResult(ids: earlier ?? [], replayed: true, replaced: [])
                }
            }
            try await connection.run("SELECT pg_advisory_xact_lock(\(Self.publishLockKey))", logger: logger)
            var replaced: [Int64] = []
            if let collapseKey = publication.collapseKey {
                replaced = try await connection.rows(
                    """
                    DELETE FROM notifications
                    WHERE audience = ANY(\(publication.target.audiences)) AND collapse_key = \(collapseKey)
                      AND publisher = \(publication.publisher)
                    RETURNING id
                    """, as: Int64.self, logger: logger)
            }
            let notifications = try await Self.insert(
                publication, replacedOthers: !replaced.isEmpty, on: connection, logger: logger)
            let ids = notifications.map(\.id)
            // NOTIFY inside the transaction: PostgreSQL delivers it at commit, in commit order, to every instance.
            for payload in FanoutMessage.payloads(for: notifications) {
                try await connection.run("SELECT pg_notify(\(FanoutMessage.channel), \(payload))", logger: logger)
            }
            if let key = publication.idempotencyKey {
                try await connection.run(
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
        guard let id = try await client.rows(statement, logger: logger).first else {
            throw HeraldError.unavailable("the database stored nothing; publish again")
        }
        return id
    }

    /// Inserts the rows and returns them as they go to sockets, in id order.
    private static func insert(
        _ publication: Publication, replacedOthers: Bool, on connection: PostgresConnection, logger: Logger
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
                SELECT \(unescaped: InboxStore.liveColumns) FROM n ORDER BY n.id
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
                SELECT \(unescaped: InboxStore.liveColumns) FROM n ORDER BY n.id
                """
        }
        return try await connection.rows(insert, logger: logger) { row in
            try LiveNotification(row: row, replacedOthers: replacedOthers)
        }
    }
}
