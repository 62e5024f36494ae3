import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Holds the LISTEN connection of this instance (SPEC §5). It is its own connection, outside the pool, and comes
/// back by itself after PostgreSQL restarts or the connection drops, catching sockets up on the gap.
final class NotifyListener: Sendable {
    private let configuration: PostgresConnection.Configuration
    private let dispatcher: FanoutDispatcher
    private let logger: Logger
    private let metrics: HeraldMetrics
    private let gate: DatabaseGate
    private let listening = NIOLockedValueBox(false)

    init(
        configuration: PostgresConnection.Configuration, dispatcher: FanoutDispatcher, logger: Logger,
        metrics: HeraldMetrics, gate: DatabaseGate
    ) {
        self.configuration = configuration
        self.dispatcher = dispatcher
        self.logger = logger
        self.metrics = metrics
        self.gate = gate
    }

    /// Whether LISTEN is in place right now (part of readiness).
    var isListening: Bool { listening.withLockedValue { $0 } }

    /// Listens until the task is cancelled.
    func run() async {
        var first = true
        var backoff = Duration.milliseconds(100)
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: attempt, logger: logger)
                do {
                    let notifications = try await connection.listen(FanoutMessage.channel)
                    if first {
                        try await dispatcher.startFromLatest()
                    } else {
                        try await dispatcher.catchUp()
                    }
                    first = false
                    listening.withLockedValue { $0 = true }
                    gate.reportSuccess()
                    backoff = .milliseconds(100)
                    logger.info("listening for fan-out", metadata: ["channel": "\(FanoutMessage.channel)"])
                    for try await notification in notifications {
                        await dispatcher.handle(notification.payload)
                    }
                } catch {
                    if !Task.isCancelled {
                        metrics.databaseError("listener")
                        gate.reportFailure()
                        logger.warning("listener connection lost", metadata: ["error": "\(error)"])
                    }
                }
                listening.withLockedValue { $0 = false }
                try? await connection.close()
            } catch {
                listening.withLockedValue { $0 = false }
                if !Task.isCancelled {
                    metrics.databaseError("listener")
                    gate.reportFailure()
                    logger.warning("listener cannot connect", metadata: ["error": "\(error)"])
                }
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(2))
        }
    }
}
