import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// Admission before a WebSocket upgrade, for what one instance can hold (issue 5's resource exhaustion):
/// - a cap on this instance's sockets, below the process's open-file limit, so a crowd gets a clear 503 (and nginx
///   tries another instance) instead of the accept loop hitting EMFILE;
/// - a handshake rate per client address, so one address flooding connects gets 429 and cannot crowd out others.
///
/// It runs once per handshake, never on the delivery path, so a lock is fine here.
final class HandshakeGuard: Sendable {
    /// File descriptors kept back from the socket cap: the database pool, the listener, REST connections, logs.
    static let reservedDescriptors = 256

    let maxSockets: Int
    private let ratePerAddress: Double
    private let live = NIOLockedValueBox(0)
    private let buckets: NIOLockedValueBox<AddressBuckets>
    /// Client addresses whose handshake rate is tracked at once.
    static let trackedAddresses = 10_000

    /// `maxSockets` 0 derives the cap from the open-file limit; `ratePerAddress` 0 turns the rate limit off.
    init(maxSockets: Int, ratePerAddress: Double) {
        self.maxSockets = maxSockets > 0 ? maxSockets : OpenFileLimit.less(Self.reservedDescriptors)
        self.ratePerAddress = ratePerAddress
        let burst = max(1, ratePerAddress * 5)
        self.buckets = NIOLockedValueBox(
            AddressBuckets(capacity: Self.trackedAddresses) { now in
                TokenBucket(burst: burst, perSecond: ratePerAddress, now: now)
            })
    }

    /// Throws the refusal for a handshake from `address`, or returns to let it through.
    func admit(address: String?) throws {
        if live.withLockedValue({ $0 }) >= maxSockets {
            throw HeraldError.overloaded("this instance holds its maximum of \(maxSockets) sockets")
        }
        guard ratePerAddress > 0, let address else { return }
        let allowed = buckets.withLockedValue { $0.take(address) }
        if !allowed { throw HeraldError.tooManyRequests("too many connection attempts from this address") }
    }

    func opened() {
        live.withLockedValue { $0 += 1 }
    }

    func closed() {
        live.withLockedValue { $0 -= 1 }
    }
}
