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

    private let limit: Int
    private let policy: HeraldConfiguration.LimitPolicy
    private let sockets = NIOLockedValueBox([String: [Entry]]())

    init(limit: Int, policy: HeraldConfiguration.LimitPolicy) {
        self.limit = limit
        self.policy = policy
    }

    func admit(_ userID: String, _ entry: Entry) -> Decision {
        sockets.withLockedValue { sockets in
            var entries = sockets[userID, default: []]
            var decision = Decision.admitted
            if entries.count >= limit {
                switch policy {
                case .reject: return .rejected
                case .evictOldest: decision = .admittedEvicting(entries.removeFirst())
                }
            }
            entries.append(entry)
            sockets[userID] = entries
            return decision
        }
    }

    func release(_ userID: String, _ entry: Entry) {
        sockets.withLockedValue { sockets in
            guard var entries = sockets[userID] else { return }
            entries.removeAll { $0 == entry }
            sockets[userID] = entries.isEmpty ? nil : entries
        }
    }
}
