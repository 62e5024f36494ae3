import Logging
import NIOConcurrencyHelpers
import PostgresNIO
import ServiceLifecycle

/// Holds the LISTEN connection of this instance. It is its own connection, outside the pool, and comes back by
/// itself after PostgreSQL restarts or the connection drops, catching sockets up on the gap.
///
/// A connection that goes silent without closing (a network drop, a stalled proxy) would otherwise go unnoticed:
/// nothing is written on a LISTEN connection, so TCP takes hours to give up while live delivery has stopped and
/// readiness stays green. Every ``probeInterval`` the listener therefore asks the server for a round trip on that
/// same connection; no answer within ``probeDeadline`` and it drops the connection, reports not listening, and
/// reconnects and catches up.
///
/// It is a service, stopped by a graceful shutdown once the sockets it delivers to are gone.
final class NotifyListener: Service, Sendable {
    static let probeInterval: Duration = .seconds(2)
    static let probeDeadline: Duration = .seconds(3)

    /// Why a LISTEN connection was given up.
    enum Loss: Error, CustomStringConvertible {
        case unresponsive
        case streamEnded

        var description: String {
            switch self {
            case .unresponsive: "the connection did not answer a probe within \(NotifyListener.probeDeadline)"
            case .streamEnded: "the notification stream ended"
            }
        }
    }

    private let configuration: PostgresConnection.Configuration
    /// Where the connection goes (`user@host:port/database`), for log lines.
    private let target: String
    private let dispatcher: FanoutDispatcher
    private let logger: Logger
    private let metrics: HeraldMetrics
    private let gate: DatabaseGate
    private let listening = NIOLockedValueBox(false)

    init(
        configuration: PostgresConnection.Configuration, target: String, dispatcher: FanoutDispatcher,
        logger: Logger, metrics: HeraldMetrics, gate: DatabaseGate
    ) {
        self.configuration = configuration
        self.target = target
        self.dispatcher = dispatcher
        self.logger = logger
        self.metrics = metrics
        self.gate = gate
    }

    /// Whether LISTEN is in place right now (part of readiness).
    var isListening: Bool { listening.withLockedValue { $0 } }

    func run() async {
        await cancelWhenGracefulShutdown { await self.keepListening() }
    }

    /// Listens until the task is cancelled.
    private func keepListening() async {
        var first = true
        var backoff = Duration.milliseconds(100)
        var attempt = 0
        while !Task.isCancelled {
            attempt += 1
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: configuration, id: attempt, logger: logger)
                do {
                    try await listen(on: connection, fresh: first) {
                        first = false
                        backoff = .milliseconds(100)
                    }
                } catch {
                    if !Task.isCancelled { lost("listener connection lost", error) }
                }
                listening.withLockedValue { $0 = false }
                try? await connection.close()
            } catch {
                listening.withLockedValue { $0 = false }
                if !Task.isCancelled { lost("listener cannot connect", error) }
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(2))
        }
    }

    private func lost(_ message: Logger.Message, _ error: any Error) {
        metrics.databaseError("listener")
        gate.reportFailure()
        logger.warning(
            message, metadata: ["error": "\(DatabaseFailure.description(of: error))", "database": "\(target)"])
    }

    /// LISTENs on `connection`, catches up (or starts from the latest id on the first connection), then hands every
    /// notification to the dispatcher until the connection fails or stops answering probes.
    private func listen(
        on connection: PostgresConnection, fresh: Bool, established: () -> Void
    ) async throws {
        let notifications = try await connection.listen(FanoutMessage.channel)
        if fresh {
            try await dispatcher.startFromLatest()
        } else {
            try await dispatcher.catchUp()
        }
        established()
        listening.withLockedValue { $0 = true }
        gate.reportSuccess()
        logger.info("listening for fan-out", metadata: ["channel": "\(FanoutMessage.channel)"])
        let dispatcher = dispatcher
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await notification in notifications {
                    await dispatcher.handle(notification.payload)
                }
                throw Loss.streamEnded
            }
            group.addTask { try await self.probe(connection) }
            do {
                try await group.next()
            } catch {
                // Closing is what ends a stream stuck on a silent connection; cancelling alone would not.
                try? await connection.close()
                group.cancelAll()
                throw error
            }
        }
    }

    /// Returns only by throwing: ``Loss/unresponsive`` when a round trip does not come back in time.
    private func probe(_ connection: PostgresConnection) async throws {
        let logger = logger
        while true {
            try await Task.sleep(for: Self.probeInterval)
            let answered = await Timebox.value(within: Self.probeDeadline) {
                (try? await connection.run("SELECT 1", logger: logger)) != nil
            }
            guard answered == true else { throw Loss.unresponsive }
        }
    }
}
