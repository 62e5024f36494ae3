import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Every connection the HTTP server accepted and has not seen close (``OpenConnections``): closes those past a cap
/// below the open-file limit, so that the process always keeps descriptors of its own, and drains the rest at
/// shutdown as swift-nio's `ServerQuiescingHelper` did (each is asked to quiesce, and the drain ends when the last
/// one has closed).
///
/// Sockets have their own, lower cap with a 503 a client understands (``HandshakeGuard``); this one is for what
/// comes past everything, bare TCP connections that never speak above all. At the limit itself the process can open
/// nothing: no database connection, and no `/proc/<tid>/stat`, which libdispatch's worker-pool monitor opens for
/// each of its threads and traps when it cannot (SIGILL in `_dispatch_workq_monitor_pools`: `ResourceExhaustionTests`
/// lost the server that way in about one run in ten).
final class ConnectionTracker: Sendable {
    /// Descriptors kept back from the cap: the database pool, the LISTEN and group-commit connections, `/proc`,
    /// logs. Fewer than ``HandshakeGuard/reservedDescriptors``, so sockets are refused with a 503 well before this.
    static let reservedDescriptors = 64

    private struct State: Sendable {
        var connections: OpenConnections<any Channel>
        var drained: EventLoopPromise<Void>?
    }

    private let state: NIOLockedValueBox<State>
    private let logger: Logger

    init(cap: Int, logger: Logger) {
        self.state = NIOLockedValueBox(State(connections: OpenConnections(cap: cap)))
        self.logger = logger
    }

    var cap: Int { state.withLockedValue { $0.connections.cap } }
    var openCount: Int { state.withLockedValue { $0.connections.count } }

    /// The handler for the listening channel, ahead of the bootstrap's accept handler: it sees each connection
    /// before it is registered.
    func makeAcceptHandler() -> some ChannelInboundHandler { AcceptHandler(tracker: self) }

    /// Whether `connection`, just accepted, may go on; if not, it has been closed. An admitted connection is
    /// forgotten when its close future completes.
    fileprivate func admit(_ connection: any Channel) -> Bool {
        let id = ObjectIdentifier(connection)
        let admission = state.withLockedValue { $0.connections.accept(connection, id: id) }
        switch admission {
        case .refuse(let startsStretch):
            if startsStretch {
                let cap = self.cap
                logger.warning(
                    "at the connection cap (the open-file limit less \(Self.reservedDescriptors)); closing new connections",
                    metadata: ["cap": "\(cap)"])
            }
            // As the accept handler itself closes a connection it could not set up.
            connection.close(promise: nil)
            return false
        case .admitQuiescing:
            // Not an event now: the connection's handlers are not there yet, since the bootstrap's initializer runs
            // after this, so an event fired now would pass an empty pipeline and the connection would hold the
            // drain open until the shutdown timeout. This handler goes first and asks once the connection is up.
            connection.pipeline.addHandler(QuiesceWhenActive(), position: .first).whenFailure { _ in
                connection.close(promise: nil)
            }
        case .admit:
            break
        }
        connection.closeFuture.whenComplete { _ in self.closed(id) }
        return true
    }

    private func closed(_ id: ObjectIdentifier) {
        let drained = state.withLockedValue { state -> EventLoopPromise<Void>? in
            state.connections.closed(id) ? state.drained : nil
        }
        drained?.succeed()
    }

    /// Closes `listener` and asks every open connection to quiesce; `promise` succeeds once the last has closed.
    /// A second drain is told when the first one ends.
    func drain(closing listener: any Channel, promise: EventLoopPromise<Void>) {
        let started = state.withLockedValue { state -> (quiesce: [any Channel], finished: Bool)? in
            guard let started = state.connections.drain() else { return nil }
            state.drained = promise
            return started
        }
        guard let started else {
            state.withLockedValue { $0.drained }?.futureResult.cascade(to: promise)
            return
        }
        listener.close().cascadeFailure(to: promise)
        for connection in started.quiesce { Self.quiesce(connection) }
        if started.finished { promise.succeed() }
    }

    private static func quiesce(_ connection: any Channel) {
        connection.eventLoop.execute {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Asks its connection to quiesce as soon as it is active (at once if it already is), then leaves the pipeline.
    private final class QuiesceWhenActive: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = NIOAny

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { quiesce(context: context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            context.fireChannelActive()
            quiesce(context: context)
        }

        private func quiesce(context: ChannelHandlerContext) {
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    private final class AcceptHandler: ChannelInboundHandler {
        typealias InboundIn = any Channel
        typealias InboundOut = any Channel

        let tracker: ConnectionTracker

        init(tracker: ConnectionTracker) {
            self.tracker = tracker
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if tracker.admit(unwrapInboundIn(data)) { context.fireChannelRead(data) }
        }
    }
}
