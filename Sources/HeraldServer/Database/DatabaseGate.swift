import Logging
import NIOConcurrencyHelpers

/// Fails requests that need PostgreSQL at once (503 with `Retry-After`) while it is known to be unreachable,
/// instead of letting each one wait for a pool connection until the request deadline. Publishers retry with their
/// idempotency key, so a fast refusal loses nothing.
///
/// It closes when a connection-level failure is seen (a request's, or the NOTIFY listener losing its connection)
/// and reopens when the listener is back or a probe (`SELECT 1`, every 200 ms while closed) answers.
final class DatabaseGate: Sendable {
    private struct State {
        var open = true
        var probing = false
    }

    private let state = NIOLockedValueBox(State())
    private let probe: @Sendable () async -> Bool
    private let logger: Logger

    init(logger: Logger, probe: @escaping @Sendable () async -> Bool) {
        self.logger = logger
        self.probe = probe
    }

    var isOpen: Bool { state.withLockedValue { $0.open } }

    /// PostgreSQL refused or dropped a connection: close, and probe until it answers.
    func reportFailure() {
        let startProbe = state.withLockedValue { state -> Bool in
            if state.open { logger.warning("database unreachable; failing requests fast until it answers") }
            state.open = false
            guard !state.probing else { return false }
            state.probing = true
            return true
        }
        guard startProbe else { return }
        Task {
            while !isOpen {
                try? await Task.sleep(for: .milliseconds(200))
                if await probe() { reportSuccess() }
            }
            state.withLockedValue { $0.probing = false }
        }
    }

    /// PostgreSQL answered (the listener reconnected, or a probe succeeded).
    func reportSuccess() {
        state.withLockedValue { state in
            if !state.open { logger.info("database reachable again") }
            state.open = true
        }
    }
}
