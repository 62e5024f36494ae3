import Logging
import PostgresNIO

/// The SQL of publishing: storing a publication once per recipient (once in all for a location or broadcast) and
/// announcing it on the NOTIFY channel in the same transaction (with ``PublishBatchStatement``, which it prepares).
public struct PublishStore: Sendable {
    /// Publishes take this transaction-scoped advisory lock from just before their ids are drawn until commit.
    /// Ids are therefore handed out in commit order: when id N is visible, every smaller id is already committed
    /// or rolled back. That is what lets a client resume "after id N" with a single number, and what makes
    /// NOTIFY, which PostgreSQL delivers in commit order, arrive in id order. The cost is one commit at a time
    /// across publishers; a commit here is ~0.1 ms of fsync, and a publish to many users is one commit.
    static let publishLockKey: Int64 = 0x4845_5241_4C44_5055

    private let client: PostgresClient
    private let logger: Logger
    private let batcher: PublishBatcher<PublishBatchStatement.Item>

    /// `requestTimeout` (`REQUEST_TIMEOUT`) bounds a group commit's batch: past it, its publishes are answered, its
    /// connection is closed, and the next batch goes ahead on a new one (``PublishBatcher/stalled``). The batches
    /// run on `commits`, the rest on the pool.
    init(client: PostgresClient, commits: DedicatedConnection, logger: Logger, requestTimeout: Double) {
        self.client = client
        self.logger = logger
        self.batcher = PublishBatcher(
            maxBatch: Self.maxBatch, timeout: .milliseconds(Int64(requestTimeout * 1000)),
            run: { items in await Self.publishBatch(items, on: commits, logger: logger) },
            stalledRun: { commits.discard() })
    }

    /// Stores `publication` and commits.
    ///
    /// With an idempotency key, the first request's ids are returned to every later one with the same key from
    /// the same publisher, and nothing new is stored; a concurrent duplicate waits on the first one's key row and
    /// then sees its result. With a collapse key, older notifications with that key from the same publisher for
    /// the same audience are deleted in the same transaction, under the publish lock, so two racing publishes
    /// cannot both survive; another publisher's notifications are never touched.
    ///
    /// The rows are written before the publish lock is taken ("staged", Migrations/0004), so what the lock covers
    /// does not grow with the publish: drawing the ids, the collapse, NOTIFY and the commit.
    public func publish(_ publication: Publication) async throws -> PublishResult {
        if Self.groupCommits(publication) {
            return PublishResult(ids: [try await batcher.submit(batchItem(publication))], replayed: false, replaced: [])
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
            let staged = try await Self.stage(publication, on: connection, logger: logger)
            try await connection.run("SELECT pg_advisory_xact_lock(\(Self.publishLockKey))", logger: logger)
            var replaced: [Int64] = []
            if let collapseKey = publication.collapseKey {
                replaced = try await connection.rows(
                    """
                    DELETE FROM notifications
                    WHERE audience = ANY(\(publication.target.audiences)) AND collapse_key = \(collapseKey)
                      AND publisher = \(publication.publisher) AND id < \(Self.stagingBase)
                    RETURNING id
                    """, as: Int64.self, logger: logger)
            }
            let ids: [Int64]
            let payloads: [String]
            if Self.goesByID(publication) {
                let numbered: [Int64] = try await connection.rows(
                    Self.numbering(staged, returning: "n.id"), as: Int64.self, logger: logger)
                ids = numbered.sorted()
                payloads = FanoutMessage.payloads(byID: ids)
            } else {
                let replacedOthers = !replaced.isEmpty
                let notifications = try await connection.rows(
                    Self.numbering(staged, returning: InboxStore.liveColumns), logger: logger
                ) { try LiveNotification(row: $0, replacedOthers: replacedOthers) }.sorted { $0.id < $1.id }
                ids = notifications.map(\.id)
                payloads = FanoutMessage.payloads(for: notifications)
            }
            // NOTIFY inside the transaction: PostgreSQL delivers it at commit, in commit order, to every instance.
            for payload in payloads {
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

    /// Where staged ids start (2^62): above every id a notification will ever get, so no watermark or counter
    /// takes a staged row for one (Migrations/0003, 0004).
    static let stagingBase: Int64 = 1 << 62

    /// Whether every notification of `publication` is too large for a NOTIFY payload, so that only its id needs
    /// to come back from the database (a conservative estimate: JSON escaping and the header only add to it).
    static func goesByID(_ publication: Publication) -> Bool {
        let p = publication
        return p.dataJSON.utf8.count + p.title.utf8.count + p.message.utf8.count >= FanoutMessage.payloadLimit
    }

    /// Writes the publication's rows with staged ids, before the publish lock; returns the staged ids in
    /// recipient order.
    private static func stage(
        _ publication: Publication, on connection: PostgresConnection, logger: Logger
    ) async throws -> [Int64] {
        let p = publication
        // Sent as the ISO text clients see, so the stored instant is exactly the one that was validated.
        let expiresAt = p.expiresAt.map { Timestamp.string($0) }
        var (users, locationID): ([String]?, String?) = (nil, nil)
        switch p.target {
        case .users(let ids): users = ids
        case .location(let id): locationID = id
        case .broadcast: break
        }
        // One row per user, or a single row without a user for a location or a broadcast.
        let insert: PostgresQuery = """
            INSERT INTO notifications (id, type, priority, title, message, data, action_url, user_id, location_id,
                                       broadcast, collapse_key, publisher, expires_at)
            SELECT \(stagingBase) + nextval('notification_staging_ids'), \(p.type), \(p.priority), \(p.title),
                   \(p.message), \(p.dataJSON)::jsonb, \(p.actionURL), u.user_id, \(locationID),
                   u.user_id IS NULL AND \(locationID)::text IS NULL, \(p.collapseKey), \(p.publisher),
                   \(expiresAt)::timestamptz
            FROM unnest(coalesce(\(users)::text[], ARRAY[NULL::text])) WITH ORDINALITY AS u(user_id, position)
            ORDER BY u.position
            RETURNING id
            """
        let staged: [Int64] = try await connection.rows(insert, as: Int64.self, logger: logger)
        return staged.sorted()
    }

    /// Gives staged rows their ids, in the order of `staged`, from the identity sequence: under the publish lock,
    /// so ids stay in commit order. The sequence is read once per row, in a CTE that runs once.
    private static func numbering(_ staged: [Int64], returning columns: String) -> PostgresQuery {
        """
        WITH numbered AS MATERIALIZED (
            SELECT s.staged, nextval(pg_get_serial_sequence('notifications', 'id')) AS id
            FROM unnest(\(staged)::bigint[]) WITH ORDINALITY AS s(staged, position)
        )
        UPDATE notifications n SET id = numbered.id
        FROM numbered WHERE n.id = numbered.staged
        RETURNING \(unescaped: columns)
        """
    }

    /// Whether `publication` is the common publish, one notification with neither key, which goes through group
    /// commit (``PublishBatcher``): one statement (``PublishBatchStatement``) and one commit for every such publish
    /// that arrived while the previous one committed, where the general path needs BEGIN, lock, insert, NOTIFY and
    /// COMMIT of its own.
    static func groupCommits(_ publication: Publication) -> Bool {
        guard publication.idempotencyKey == nil, publication.collapseKey == nil else { return false }
        if case .users(let ids) = publication.target { return ids.count == 1 }
        return true
    }

    /// Stores a publication that ``groupCommits(_:)`` in the next batch and tells `completion` its id, or the error
    /// that failed it, from the thread that ran the batch.
    func publishInBatch(
        _ publication: Publication, completion: @escaping @Sendable (Result<Int64, any Error>) -> Void
    ) {
        batcher.submit(batchItem(publication), completion: completion)
    }

    private func batchItem(_ publication: Publication) -> PublishBatchStatement.Item {
        let expiresAt = publication.expiresAt.map { Timestamp.string($0) }
        return PublishBatchStatement.Item(
            publication: publication, expiresAt: expiresAt,
            entry: NotifyEntryTemplate(publication, expiresAt: expiresAt, publishedAt: Timestamp.microsecondsNow()))
    }

    /// Most publishes one statement takes: its bindings and its NOTIFYs stay small.
    static let maxBatch = 100

    /// Runs one batch; each item's id, in order, or the error that failed it.
    ///
    /// A row PostgreSQL refuses fails the whole statement, and the requests that came with it must not fail for
    /// it: each goes again alone, so only the bad one is refused. A database that is unreachable, slow or locked
    /// fails them all alike, and they are not tried again.
    private static func publishBatch(
        _ items: [PublishBatchStatement.Item], on commits: DedicatedConnection, logger: Logger
    ) async -> [Result<Int64, any Error>] {
        do {
            let ids = try await commits.rows(
                PublishBatchStatement(items: items, lockKey: publishLockKey), logger: logger)
            guard ids.count == items.count else {
                let error = HeraldError.unavailable("the database stored fewer notifications than sent; publish again")
                return items.map { _ in .failure(error) }
            }
            return ids.sorted().map { .success($0) }
        } catch {
            guard items.count > 1, DatabaseFailure(error) == .other else { return items.map { _ in .failure(error) } }
            var results: [Result<Int64, any Error>] = []
            for item in items { results += await publishBatch([item], on: commits, logger: logger) }
            return results
        }
    }
}
