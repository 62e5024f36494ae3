import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
import ServiceLifecycle

/// A connection of its own, outside the pool, for statements that run one at a time: the group commit's batches
/// (``PublishBatcher``), which commit one after another whatever the pool holds, since each holds the publish
/// lock until it commits.
///
/// Through the pool every batch paid a lease and a release, and each release armed postgres-nio's idle timer (a
/// task around a `Task.sleep`, cancelled at the next lease): a tenth of the samples in a profile at 1,000
/// publishes a second, and a sixth of the server's CPU per publish once they were gone. A minimum of
/// pooled connections would spare the timer, but postgres-nio 1.33 then stops on a failed precondition once one of
/// them dies (``DatabaseURL/keepAliveBehavior``).
///
/// The connection opens at the first statement, and again at the first one after it closed (PostgreSQL restarted,
/// the network reset). One that stopped answering is closed by ``discard()``, so that the next statement gets a
/// fresh connection rather than queueing behind the stuck one. It is a service: a graceful shutdown closes it once
/// the HTTP server, which stops first, has answered its last publish.
final class DedicatedConnection: Service, Sendable {
    private let configuration: PostgresConnection.Configuration
    private let loops: any EventLoopGroup
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    /// `configuration` should carry the pool's startup parameters (``DatabaseURL/dedicatedConfiguration(_:timeouts:)``),
    /// so its statements run under the same plans and time limits.
    init(configuration: PostgresConnection.Configuration, loops: any EventLoopGroup, logger: Logger) {
        self.configuration = configuration
        self.loops = loops
        self.logger = logger
    }

    private struct State {
        /// Counts the connections asked for, so that a connection that arrives after it was discarded is closed.
        var generation = 0
        var phase = Phase.idle
    }

    private enum Phase {
        case idle
        case connecting(Task<PostgresConnection, any Error>)
        case open(PostgresConnection)
        case stopped
    }

    /// What a statement waits for: the open connection, or the one being opened.
    private enum Next {
        case ready(PostgresConnection)
        case pending(Task<PostgresConnection, any Error>, generation: Int)
    }

    /// The connection was discarded or the instance is stopping: the statement was not sent.
    static var gone: HeraldError { .unavailable("the database connection was closed; publish again") }

    /// Every row of `statement`, run on the connection.
    func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> [Statement.Row] {
        try await connection().rows(statement, logger: logger, file: file, line: line)
    }

    /// The open connection, opening one if there is none or the last one closed.
    func connection() async throws -> PostgresConnection {
        let next = try state.withLockedValue { state -> Next in
            switch state.phase {
            case .stopped: throw Self.gone
            case .open(let connection) where !connection.isClosed: return .ready(connection)
            case .connecting(let task): return .pending(task, generation: state.generation)
            case .open, .idle:
                state.generation += 1
                let (configuration, logger, loop, id) = (configuration, logger, loops.next(), state.generation)
                let task = Task {
                    try await PostgresConnection.connect(on: loop, configuration: configuration, id: id, logger: logger)
                }
                state.phase = .connecting(task)
                return .pending(task, generation: state.generation)
            }
        }
        switch next {
        case .ready(let connection):
            return connection
        case .pending(let task, let generation):
            let connection: PostgresConnection
            do {
                connection = try await task.value
            } catch {
                state.withLockedValue { state in
                    if state.generation == generation, case .connecting = state.phase { state.phase = .idle }
                }
                throw error
            }
            let current = state.withLockedValue { state -> Bool in
                guard state.generation == generation else { return false }
                if case .connecting = state.phase { state.phase = .open(connection) }
                return true
            }
            guard current else {
                connection.closeSoon()
                throw Self.gone
            }
            return connection
        }
    }

    /// Closes the connection in use (or the one being opened): a statement on it did not answer in time. The
    /// statement fails once it is closed; the next one opens a new connection.
    func discard() {
        let connection = state.withLockedValue { state -> PostgresConnection? in
            guard case .stopped = state.phase else {
                state.generation += 1
                defer { state.phase = .idle }
                if case .open(let connection) = state.phase { return connection }
                return nil
            }
            return nil
        }
        connection?.closeSoon()
    }

    func run() async {
        try? await gracefulShutdown()
        let (connection, pending) = state.withLockedValue {
            state -> (PostgresConnection?, Task<PostgresConnection, any Error>?) in
            defer { state.phase = .stopped }
            switch state.phase {
            case .open(let connection): return (connection, nil)
            case .connecting(let task): return (nil, task)
            case .idle, .stopped: return (nil, nil)
            }
        }
        try? await connection?.close()
        try? await pending?.value.close()
    }
}

extension PostgresConnection {
    /// Closes the connection without waiting for it, keeping it until it has closed: postgres-nio asserts that a
    /// connection it frees is closed.
    fileprivate func closeSoon() {
        let closing: EventLoopFuture<Void> = close()
        closing.whenComplete { _ in withExtendedLifetime(self) {} }
    }
}
