import Logging
import PostgresNIO

/// The SQL of the inbox's housekeeping (``InboxSweeper``): deleting expired notifications, the personal rows a
/// user cleared, and idempotency keys past their window. None changes what a client sees, since all are invisible
/// already; sweeping keeps the part of a count that is still read from rows small and gives the space back.
/// Instances sweeping at once skip each other's rows.
public struct SweepStore: Sendable {
    /// Rows one statement deletes at most.
    public static let batch = 5000

    private let client: PostgresClient
    private let idempotencyWindow: Double
    private let logger: Logger

    /// `idempotencyWindow` is in seconds (`IDEMPOTENCY_WINDOW`).
    public init(client: PostgresClient, idempotencyWindow: Double = 86400, logger: Logger) {
        self.client = client
        self.idempotencyWindow = idempotencyWindow
        self.logger = logger
    }

    /// Deletes up to ``batch`` idempotency keys older than the window and returns how many went. A retry with such
    /// a key publishes anew, as the API document says.
    public func sweepIdempotencyKeys() async throws -> Int {
        try await client.value(
            """
            WITH old AS (
                SELECT publisher, idempotency_key FROM publish_requests
                WHERE created_at < now() - make_interval(secs => \(idempotencyWindow))
                ORDER BY created_at LIMIT \(Self.batch) FOR UPDATE SKIP LOCKED
            ), swept AS (
                DELETE FROM publish_requests p USING old
                WHERE p.publisher = old.publisher AND p.idempotency_key = old.idempotency_key RETURNING 1
            )
            SELECT count(*) FROM swept
            """, as: Int.self, logger: logger) ?? 0
    }

    /// Deletes up to ``batch`` expired notifications and returns how many went.
    public func sweepExpired() async throws -> Int {
        try await client.value(
            """
            WITH doomed AS (
                SELECT id FROM notifications WHERE expires_at <= now()
                ORDER BY expires_at LIMIT \(Self.batch) FOR UPDATE SKIP LOCKED
            ), swept AS (
                DELETE FROM notifications WHERE id IN (SELECT id FROM doomed) RETURNING 1
            )
            SELECT count(*) FROM swept
            """, as: Int.self, logger: logger) ?? 0
    }

    /// Deletes fan-out messages stored more than five minutes ago (``FanoutStore/notify(_:)``); every instance has
    /// read them long before.
    public func sweepStoredMessages() async throws {
        try await client.run(
            "DELETE FROM fanout_payloads WHERE created_at < now() - interval '5 minutes'", logger: logger)
    }

    /// A personal audience cleared by its user whose rows at or under the cleared watermark are not all deleted.
    public struct ClearedAudience: Sendable, Equatable {
        public var userID: String
        public var audience: String
        public var clearedThrough: Int64
    }

    /// Up to `limit` personal audiences waiting for their cleared rows to be deleted.
    public func clearedAudiences(limit: Int = 100) async throws -> [ClearedAudience] {
        try await client.rows(
            """
            SELECT user_id, audience, cleared_through FROM inbox_marks
            WHERE cleared_through > purged_through LIMIT \(limit)
            """, as: (String, String, Int64).self, logger: logger
        ).map { ClearedAudience(userID: $0.0, audience: $0.1, clearedThrough: $0.2) }
    }

    /// Deletes up to ``batch`` of `cleared`'s rows, oldest first; once none is left, records that the audience is
    /// purged up to its watermark. Returns how many rows went.
    public func purge(_ cleared: ClearedAudience) async throws -> Int {
        let purged =
            try await client.value(
                """
                WITH doomed AS (
                    SELECT id FROM notifications WHERE audience = \(cleared.audience) AND id <= \(cleared.clearedThrough)
                    ORDER BY id LIMIT \(Self.batch) FOR UPDATE SKIP LOCKED
                ), purged AS (
                    DELETE FROM notifications WHERE id IN (SELECT id FROM doomed) RETURNING 1
                )
                SELECT count(*) FROM purged
                """, as: Int.self, logger: logger) ?? 0
        if purged < Self.batch {
            try await client.run(
                """
                UPDATE inbox_marks SET purged_through = \(cleared.clearedThrough)
                WHERE user_id = \(cleared.userID) AND audience = \(cleared.audience)
                  AND purged_through < \(cleared.clearedThrough)
                """, logger: logger)
        }
        return purged
    }
}
