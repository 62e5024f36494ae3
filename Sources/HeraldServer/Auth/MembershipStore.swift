import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Remembers which locations each user's latest token named, so that staff may publish to "users at their
/// locations" (SPEC §1) although Herald has no user directory: tokens are the only source of membership.
///
/// Recording happens on every authenticated request, so an in-process cache skips the write while a user's
/// locations are unchanged. The cache is on the REST path only, never on the realtime hot path.
public final class MembershipStore: Sendable {
    private let client: PostgresClient
    private let logger: Logger
    private let recent = NIOLockedValueBox([String: [String]]())
    private static let cacheLimit = 100_000

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Stores the principal's locations if they differ from what was last stored.
    public func record(_ principal: Principal) async throws {
        if recent.withLockedValue({ $0[principal.userID] }) == principal.locations { return }
        try await client.query(
            """
            INSERT INTO user_locations (user_id, locations) VALUES (\(principal.userID), \(principal.locations))
            ON CONFLICT (user_id) DO UPDATE SET locations = excluded.locations, seen_at = now()
            WHERE user_locations.locations IS DISTINCT FROM excluded.locations
            """, logger: logger)
        recent.withLockedValue { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            cache[principal.userID] = principal.locations
        }
    }

    /// Those of `userIDs` whose latest token named at least one of `locations`.
    public func users(_ userIDs: [String], atAnyOf locations: [String]) async throws -> Set<String> {
        let rows = try await client.query(
            """
            SELECT user_id FROM user_locations
            WHERE user_id = ANY(\(userIDs)) AND locations && \(locations)::text[]
            """, logger: logger)
        var found = Set<String>()
        for try await id in rows.decode(String.self) { found.insert(id) }
        return found
    }
}
