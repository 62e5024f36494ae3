import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Fails requests that need PostgreSQL at once (503 with `Retry-After`) while it is known to be unreachable,
/// instead of letting each one wait for a pool connection until the request deadline. Publishers retry with their
/// idempotency key, so a fast refusal loses nothing.
///
/// It closes when a connection-level failure is seen (a request's, or the NOTIFY listener losing its connection)
/// and reopens when the listener is back or a probe (`SELECT 1`, every 200 ms while closed) answers. The probing
/// is this service's loop; a graceful shutdown stops it.
final class DatabaseGate: Service, Sendable {
    private let open = NIOLockedValueBox(true)
    private let doorbell = Doorbell()
    private let probe: @Sendable () async -> Bool
    private let logger: Logger

    init(logger: Logger, probe: @escaping @Sendable () async -> Bool) {
        self.logger = logger
        self.probe = probe
    }

    var isOpen: Bool { open.withLockedValue { $0 } }

    /// What a request is told while the gate is closed, and when its own connection could not reach PostgreSQL:
    /// the one answer that means the database is down (never a timeout's or a busy lock's).
    static var closed: HeraldError { .unavailable("Database unavailable") }

    /// PostgreSQL refused or dropped a connection: close, and probe until it answers.
    func reportFailure() {
        let closing = open.withLockedValue { open -> Bool in
            defer { open = false }
            return open
        }
        guard closing else { return }
        logger.warning("database unreachable; failing requests fast until it answers")
        doorbell.ring()
    }

    /// PostgreSQL answered (the listener reconnected, or a probe succeeded).
    func reportSuccess() {
        let reopening = open.withLockedValue { open -> Bool in
            defer { open = true }
            return !open
        }
        if reopening { logger.info("database reachable again") }
    }

    func run() async {
        await cancelWhenGracefulShutdown {
            for await _ in self.doorbell.wakeUps {
                while !self.isOpen, !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(200))
                    if await self.probe() { self.reportSuccess() }
                }
            }
        }
    }
}
