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
    private let queued = NIOLockedValueBox((pending: [String: [String]](), flushing: false))
    private static let cacheLimit = 100_000

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Stores the principal's locations if they differ from what was last stored.
    public func record(_ principal: Principal) async throws {
        if recent.withLockedValue({ $0[principal.userID] }) == principal.locations { return }
        try await store([(principal.userID, principal.locations)])
    }

    /// Records the principal's locations in the background, batched with other sockets' (a thousand connects are
    /// a few statements), for the socket handshake, which must not wait on the database.
    public func remember(_ principal: Principal) {
        if recent.withLockedValue({ $0[principal.userID] }) == principal.locations { return }
        let start = queued.withLockedValue { state -> Bool in
            state.pending[principal.userID] = principal.locations
            guard !state.flushing else { return false }
            state.flushing = true
            return true
        }
        guard start else { return }
        Task {
            while true {
                let batch = queued.withLockedValue { state -> [(String, [String])] in
                    let batch = Array(state.pending.prefix(1000))
                    for (user, _) in batch { state.pending[user] = nil }
                    if batch.isEmpty { state.flushing = false }
                    return batch
                }
                if batch.isEmpty { return }
                do {
                    try await store(batch)
                } catch {
                    logger.warning(
                        "could not record locations",
                        metadata: ["error": "\(DatabaseFailure.description(of: error))", "users": "\(batch.count)"])
                }
            }
        }
    }

    private func store(_ batch: [(String, [String])]) async throws {
        var writer = JSONWriter()
        writer.beginArray()
        for (user, locations) in batch {
            writer.beginObject()
            writer.key("u")
            writer.string(user)
            writer.key("l")
            writer.strings(locations)
            writer.endObject()
        }
        writer.endArray()
        try await client.run(
            """
            INSERT INTO user_locations (user_id, locations)
            SELECT x.u, ARRAY(SELECT jsonb_array_elements_text(x.l)) FROM jsonb_to_recordset(\(writer.string)::jsonb) AS x(u text, l jsonb)
            ON CONFLICT (user_id) DO UPDATE SET locations = excluded.locations, seen_at = now()
            WHERE user_locations.locations IS DISTINCT FROM excluded.locations
            """, logger: logger)
        recent.withLockedValue { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            for (user, locations) in batch { cache[user] = locations }
        }
    }

    /// Those of `userIDs` whose latest token named at least one of `locations`.
    public func users(_ userIDs: [String], atAnyOf locations: [String]) async throws -> Set<String> {
        let rows = try await client.rows(
            """
            SELECT user_id FROM user_locations
            WHERE user_id = ANY(\(userIDs)) AND locations && \(locations)::text[]
            """, as: String.self, logger: logger)
        return Set(rows)
    }
}
