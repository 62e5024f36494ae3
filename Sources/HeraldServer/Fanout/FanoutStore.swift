import Logging
import PostgresNIO

/// The SQL behind cross-instance fan-out: sending a NOTIFY, and fetching notifications that did not fit in one
/// or that a listener missed while it was disconnected.
public struct FanoutStore: Sendable {
    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Sends `message` to every instance. One too large for a NOTIFY payload is stored and sent by its id, in
    /// the same statement, so that it exists before any instance hears of it.
    public func notify(_ message: FanoutMessage) async throws {
        let payload = message.payload
        if payload.utf8.count < FanoutMessage.payloadLimit {
            try await client.run("SELECT pg_notify(\(FanoutMessage.channel), \(payload))", logger: logger)
        } else {
            try await client.run(
                """
                WITH stored AS (INSERT INTO fanout_payloads (payload) VALUES (\(payload)) RETURNING id)
                SELECT pg_notify(\(FanoutMessage.channel), 'p' || chr(10) || id) FROM stored
                """, logger: logger)
        }
    }

    /// A message stored by ``notify(_:)``; `nil` if it is gone (swept, or never committed).
    public func storedMessage(_ id: Int64) async throws -> FanoutMessage? {
        guard
            let payload = try await client.value(
                "SELECT payload FROM fanout_payloads WHERE id = \(id)", as: String.self, logger: logger)
        else { return nil }
        return FanoutMessage(payload: payload)
    }

    /// The notifications with these ids that still exist and have not expired, in id order.
    public func notifications(ids: [Int64]) async throws -> [LiveNotification] {
        try await fetch(
            """
            SELECT \(unescaped: InboxStore.liveColumns) FROM notifications n
            WHERE n.id = ANY(\(ids)) AND (n.expires_at IS NULL OR n.expires_at > now()) ORDER BY n.id
            """)
    }

    /// The audiences of the notifications with these ids that still exist and have not expired: which of them
    /// this instance has sockets for decides what it fetches whole.
    public func audiences(ids: [Int64]) async throws -> [(id: Int64, audience: String)] {
        try await client.rows(
            """
            SELECT n.id, n.audience FROM notifications n
            WHERE n.id = ANY(\(ids)) AND (n.expires_at IS NULL OR n.expires_at > now())
            """, as: (Int64, String).self, logger: logger
        ).map { (id: $0.0, audience: $0.1) }
    }

    /// Up to `limit` notifications committed after id `after`, in id order: a listener's catch-up after a gap.
    public func notifications(after: Int64, limit: Int) async throws -> [LiveNotification] {
        try await notifications(after: after, limit: limit, on: client)
    }

    func notifications(after: Int64, limit: Int, on runner: some StatementRunner) async throws -> [LiveNotification] {
        try await runner.rows(
            """
            SELECT \(unescaped: InboxStore.liveColumns) FROM notifications n
            WHERE n.id > \(after) AND (n.expires_at IS NULL OR n.expires_at > now()) ORDER BY n.id LIMIT \(limit)
            """, logger: logger
        ) { try LiveNotification(row: $0, replacedOthers: false) }
    }

    /// The highest id committed so far (0 for none): where a fresh listener starts.
    public func latestID() async throws -> Int64 {
        try await client.value("SELECT coalesce(max(id), 0)::bigint FROM notifications", as: Int64.self, logger: logger)
            ?? 0
    }

    private func fetch(_ query: PostgresQuery) async throws -> [LiveNotification] {
        try await client.rows(query, logger: logger) { try LiveNotification(row: $0, replacedOthers: false) }
    }
}

extension FanoutStore {
    /// Whether PostgreSQL answers within a second (status and readiness), however it fails to.
    public func isReachable() async -> Bool {
        let client = client
        let logger = logger
        return await Timebox.value(within: .seconds(1)) {
            (try? await client.run("SELECT 1", logger: logger)) != nil
        } ?? false
    }
}
