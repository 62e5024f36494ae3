import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Closes the connections accepted past a cap below the open-file limit, so that the process always keeps
/// descriptors of its own. It sits on the listening channel, ahead of the bootstrap's accept handler, and sees each
/// connection before it is registered.
///
/// Sockets have their own, lower cap with a 503 a client understands (``HandshakeGuard``); this one is for what
/// comes past everything, bare TCP connections that never speak above all. At the limit itself the process can open
/// nothing: no database connection, and no `/proc/<tid>/stat`, which libdispatch's worker-pool monitor opens for
/// each of its threads and traps when it cannot (SIGILL in `_dispatch_workq_monitor_pools`: `ResourceExhaustionTests`
/// lost the server that way in about one run in ten).
final class ConnectionCapHandler: ChannelInboundHandler {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel

    /// Descriptors kept back from the cap: the database pool, the LISTEN and group-commit connections, `/proc`,
    /// logs. Fewer than ``HandshakeGuard/reservedDescriptors``, so sockets are refused with a 503 well before this.
    static let reservedDescriptors = 64

    let cap: Int
    private let logger: Logger
    private let open = NIOLockedValueBox(0)
    /// Whether the last connection accepted was closed for the cap: a stretch of refusals is logged once, when it
    /// starts, so that an operator sees it without a line per connection.
    private var refusing = false

    init(cap: Int, logger: Logger) {
        self.cap = cap
        self.logger = logger
    }

    /// The soft open-file limit less ``reservedDescriptors`` (at least 16).
    static func derivedCap() -> Int {
        guard let limit = openFileLimit() else { return 1_000_000 }
        return max(16, limit - reservedDescriptors)
    }

    /// The process's soft open-file limit, or `nil` when it is unlimited or cannot be read.
    static func openFileLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 100_000_000 else { return nil }
        return Int(limit.rlim_cur)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let connection = unwrapInboundIn(data)
        let admitted = open.withLockedValue { open -> Bool in
            guard open < cap else { return false }
            open += 1
            return true
        }
        guard admitted else {
            if !refusing {
                refusing = true
                logger.warning(
                    "at the connection cap (the open-file limit less \(Self.reservedDescriptors)); closing new connections",
                    metadata: ["cap": "\(cap)"])
            }
            // As the accept handler itself closes a connection it could not set up.
            connection.close(promise: nil)
            return
        }
        refusing = false
        let open = open
        connection.closeFuture.whenComplete { _ in open.withLockedValue { $0 -= 1 } }
        context.fireChannelRead(data)
    }
}
