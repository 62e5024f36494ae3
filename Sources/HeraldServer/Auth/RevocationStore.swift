import Foundation
import Logging
import PostgresNIO

/// The SQL of revocations (`token_revocations`, Migrations/0005).
public struct RevocationStore: Sendable {
    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Refuses every token of `userID` issued before now (whole seconds), and tells every instance, which close
    /// the user's sockets holding such a token with 4401. Returns the moment, in seconds since 1970.
    func revoke(_ userID: String, by revoker: String) async throws -> Double {
        let logger = logger
        return try await client.withTransaction(logger: logger) { connection in
            let before =
                try await connection.value(
                    """
                    INSERT INTO token_revocations AS r (user_id, revoked_before, revoked_by)
                    VALUES (\(userID), date_trunc('second', now()), \(revoker))
                    ON CONFLICT (user_id) DO UPDATE
                    SET revoked_before = greatest(r.revoked_before, excluded.revoked_before),
                        revoked_by = excluded.revoked_by, revoked_at = now()
                    RETURNING extract(epoch FROM revoked_before)::float8
                    """, as: Double.self, logger: logger) ?? Date().timeIntervalSince1970.rounded(.down)
            let order = SocketCloseOrder(
                target: .user(userID), code: UInt16(webSocketErrorCode: HeraldError.unauthorized("").closeCode),
                reason: "token revoked", issuedBefore: before)
            try await connection.run(
                "SELECT pg_notify(\(FanoutMessage.channel), \(FanoutMessage.closeSockets(order).payload))",
                logger: logger)
            return before
        }
    }

    /// Every revocation, by user.
    func all() async throws -> [String: Double] {
        let rows = try await client.rows(
            "SELECT user_id, extract(epoch FROM revoked_before)::float8 FROM token_revocations",
            as: (String, Double).self, logger: logger)
        return Dictionary(rows, uniquingKeysWith: max)
    }
}
