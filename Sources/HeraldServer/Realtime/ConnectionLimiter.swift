import NIOConcurrencyHelpers

/// `WS_MAX_CONNECTIONS_PER_USER` across all event loops of this instance. Taken once when a socket opens and once
/// when it closes, never per message, so its lock is off the delivery path.
final class ConnectionLimiter: Sendable {
    /// A live socket: which shard holds it and its id there.
    struct Entry: Sendable, Equatable {
        let sessionID: UInt64
        let shard: Int
    }

    enum Decision: Equatable {
        case admitted
        /// Admitted; the oldest socket of the user must be closed with 4409.
        case admittedEvicting(Entry)
        /// Refused: close the new socket with 4429.
        case rejected
    }

    /// A user's sockets, oldest first. The first is held inline: most users have one socket, and an array of one
    /// would cost every socket a heap allocation.
    private struct Held {
        var oldest: Entry
        var newer: [Entry] = []

        var count: Int { 1 + newer.count }
    }

    private let limit: Int
    private let policy: HeraldConfiguration.LimitPolicy
    private let sockets = NIOLockedValueBox([String: Held]())

    init(limit: Int, policy: HeraldConfiguration.LimitPolicy) {
        self.limit = limit
        self.policy = policy
    }

    func admit(_ userID: String, _ entry: Entry) -> Decision {
        sockets.withLockedValue { sockets in
            guard var held = sockets.removeValue(forKey: userID) else {
                // The limit is at least 1 (configuration).
                sockets[userID] = Held(oldest: entry)
                return .admitted
            }
            defer { sockets[userID] = held }
            guard held.count >= limit else {
                held.newer.append(entry)
                return .admitted
            }
            switch policy {
            case .reject:
                return .rejected
            case .evictOldest:
                let evicted = held.oldest
                held.newer.append(entry)
                held.oldest = held.newer.removeFirst()
                return .admittedEvicting(evicted)
            }
        }
    }

    func release(_ userID: String, _ entry: Entry) {
        sockets.withLockedValue { sockets in
            guard var held = sockets.removeValue(forKey: userID) else { return }
            if held.oldest == entry {
                guard !held.newer.isEmpty else { return }
                held.oldest = held.newer.removeFirst()
            } else {
                held.newer.removeAll { $0 == entry }
            }
            sockets[userID] = held
        }
    }
}
