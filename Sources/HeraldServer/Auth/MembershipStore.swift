import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// Remembers which locations each user's latest token named, so that staff may publish to "users at their
/// locations" although Herald has no user directory: tokens are the only source of membership.
///
/// Recording happens on every authenticated request, at every socket handshake and at every token refresh on a
/// socket, so an in-process cache skips the write while a user's locations are unchanged and were written less
/// than ``refreshInterval`` ago. A membership counts for ``maxAge`` after the user was last seen with it
/// (`MEMBERSHIP_MAX_AGE`): a user who left a location and never came back with a new token stops being one of
/// its users for staff after that long.
///
/// It is a service: the handshake's writes are batched by its loop, which writes what is left on a graceful
/// shutdown.
public final class MembershipStore: Service, Sendable {
    /// How long a recorded membership is trusted without writing `seen_at` again.
    static let refreshInterval: Duration = .seconds(600)
    private static let cacheLimit = 100_000

    private let client: PostgresClient
    private let logger: Logger
    private let maxAge: Double
    private let recent = NIOLockedValueBox([String: (locations: [String], at: ContinuousClock.Instant)]())
    private let pending = NIOLockedValueBox([String: [String]]())
    private let doorbell = Doorbell()

    /// `maxAge` is in seconds.
    public init(client: PostgresClient, maxAge: Double = 30 * 86400, logger: Logger) {
        self.client = client
        self.maxAge = maxAge
        self.logger = logger
    }

    /// Whether `principal`'s locations were written recently enough to skip writing them again.
    func isFresh(_ principal: Principal) -> Bool {
        guard let entry = recent.withLockedValue({ $0[principal.userID] }) else { return false }
        return entry.locations == principal.locations && ContinuousClock.now - entry.at < Self.refreshInterval
    }

    /// Stores the principal's locations unless the same were stored recently.
    public func record(_ principal: Principal) async throws {
        if isFresh(principal) { return }
        try await store([(principal.userID, principal.locations)])
    }

    /// Records the principal's locations in the background, batched with other sockets' (a thousand connects are
    /// a few statements), for the socket handshake, which must not wait on the database.
    public func remember(_ principal: Principal) {
        if isFresh(principal) { return }
        pending.withLockedValue { $0[principal.userID] = principal.locations }
        doorbell.ring()
    }

    /// Writes what the handshakes remembered, until a graceful shutdown, then what is left (for at most 2 s).
    public func run() async {
        await withGracefulShutdownHandler {
            for await _ in doorbell.wakeUps { await flush() }
        } onGracefulShutdown: {
            self.doorbell.close()
        }
        _ = await Timebox.value(within: .seconds(2)) { await self.flush() }
    }

    private func flush() async {
        while true {
            let batch = pending.withLockedValue { pending -> [(String, [String])] in
                let batch = Array(pending.prefix(1000))
                for (user, _) in batch { pending[user] = nil }
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
            """, logger: logger)
        let now = ContinuousClock.now
        recent.withLockedValue { cache in
            if cache.count >= Self.cacheLimit { cache.removeAll(keepingCapacity: true) }
            for (user, locations) in batch { cache[user] = (locations, now) }
        }
    }

    /// Those of `userIDs` whose latest token named at least one of `locations`, seen within ``maxAge``.
    public func users(_ userIDs: [String], atAnyOf locations: [String]) async throws -> Set<String> {
        let rows = try await client.rows(
            """
            SELECT user_id FROM user_locations
            WHERE user_id = ANY(\(userIDs)) AND locations && \(locations)::text[]
              AND seen_at > now() - make_interval(secs => \(maxAge))
            """, as: String.self, logger: logger)
        return Set(rows)
    }
}
