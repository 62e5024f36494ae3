import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Vapor

/// Herald's HTTP/1 server: Vapor's router, middleware and routes behind a pipeline of swift-nio's own HTTP handlers,
/// with WebSocket handshakes taken off it before Vapor sees them.
///
/// Vapor's `HTTPServer` builds every connection's pipeline itself and gives no place to put a handler ahead of its
/// own. A handshake through it paid for a Vapor `Request` (a UUID, a logger, storage), the responder chain, the
/// route, a `Response` carrying an upgrader, and then the removal of Vapor's seven HTTP handlers: about 0.35 ms of
/// CPU per connect against the bare swift-nio baseline's 0.13 ms (docs/performance.md). Here a connection's pipeline
/// is
///
///     HTTPResponseEncoder → HTTPRequestDecoder → HTTPServerPipelineHandler → HTTPServerProtocolErrorHandler
///         → SocketHandshakeHandler → ResponderHandler → NIOCloseOnErrorHandler
///
/// and a handshake for one of `sockets`' paths is answered by ``SocketHandshakeHandler`` on the event loop, at any
/// request of a kept-alive connection; a request one of the ``DirectRoutes`` takes is answered by it, also on the
/// loop; everything else reaches Vapor's router and middleware through ``ResponderHandler`` and
/// ``HeraldResponder``.
///
/// Shutdown is Vapor's: the listening socket closes, every connection is asked to quiesce (an idle one closes, a
/// busy one after its response) and the server waits for them, at most `shutdownTimeout`.
final class HeraldHTTPServer: Server, Sendable {
    struct Configuration: Sendable {
        var maxBodyBytes: Int
        var serverName = "herald"
        var shutdownTimeout: TimeAmount = .seconds(10)
        /// Connections open at once, past which new ones are closed at accept (``ConnectionTracker``).
        var connectionCap = OpenFileLimit.less(ConnectionTracker.reservedDescriptors)
        /// The routes answered ahead of Vapor's responder; without them every request goes to Vapor's.
        var direct: DirectRoutes?
    }

    private let application: Application
    private let sockets: SocketEndpoints
    private let configuration: Configuration
    private enum Phase {
        case idle
        case listening(any Channel, ConnectionTracker)
        case stopped
    }

    private let phase = NIOLockedValueBox(Phase.idle)
    /// Completed once, by the first shutdown or a failed start, so that it never leaks.
    private let stopped: EventLoopPromise<Void>

    init(application: Application, sockets: SocketEndpoints, configuration: Configuration) {
        self.application = application
        self.sockets = sockets
        self.configuration = configuration
        self.stopped = application.eventLoopGroup.any().makePromise()
    }

    var onShutdown: EventLoopFuture<Void> { stopped.futureResult }

    /// The bound address once started (its port differs from the configured one when that was 0).
    var localAddress: SocketAddress? {
        phase.withLockedValue { phase in
            guard case .listening(let channel, _) = phase else { return nil }
            return channel.localAddress
        }
    }

    func start(address: BindAddress?) async throws {
        let connections = ConnectionTracker(cap: configuration.connectionCap, logger: application.logger)
        // Made once, from the routes and middleware registered by now.
        let responder = HeraldResponder(application: application)
        let bootstrap = ServerBootstrap(group: application.eventLoopGroup)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.maxMessagesPerRead, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(connections.makeAcceptHandler())
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 1)
            .childChannelInitializer { [application, sockets, configuration] channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.configure(
                        channel, application: application, responder: responder, sockets: sockets,
                        configuration: configuration)
                }
            }
        let channel: any Channel
        do {
            switch address {
            case .unixDomainSocket(let path):
                channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
            case .hostname(let host, let port):
                channel = try await bootstrap.bind(host: host ?? "127.0.0.1", port: port ?? 8000).get()
            case nil:
                channel = try await bootstrap.bind(host: "127.0.0.1", port: 8000).get()
            }
        } catch {
            phase.withLockedValue { $0 = .stopped }
            stopped.succeed()
            throw error
        }
        phase.withLockedValue { $0 = .listening(channel, connections) }
    }

    @available(*, noasync, message: "Use the async start(address:).")
    func start(address: BindAddress?) throws {
        let done = application.eventLoopGroup.any().makePromise(of: Void.self)
        done.completeWithTask { try await self.start(address: address) }
        try done.futureResult.wait()
    }

    func shutdown() async {
        let previous = phase.withLockedValue { phase in
            defer { phase = .stopped }
            return phase
        }
        let (listener, connections): (any Channel, ConnectionTracker)
        switch previous {
        case .stopped: return
        case .idle: return stopped.succeed()
        case .listening(let channel, let tracker): (listener, connections) = (channel, tracker)
        }
        let done = stopped.futureResult.eventLoop.makePromise(of: Void.self)
        let timeout = done.futureResult.eventLoop.scheduleTask(in: configuration.shutdownTimeout) {
            done.fail(ChannelError.alreadyClosed)
        }
        connections.drain(closing: listener, promise: done)
        do {
            try await done.futureResult.get()
        } catch {
            application.logger.warning("connections were still open when the server stopped waiting for them")
        }
        timeout.cancel()
        stopped.succeed()
    }

    @available(*, noasync, message: "Use the async shutdown().")
    func shutdown() {
        let done = application.eventLoopGroup.any().makePromise(of: Void.self)
        done.completeWithTask { await self.shutdown() }
        try? done.futureResult.wait()
    }

    /// One connection's HTTP pipeline. The request decoder forwards what follows a handshake as bytes, so a
    /// socket's first frames are not lost if they came in the same read.
    static func configure(
        _ channel: any Channel, application: Application, responder: HeraldResponder, sockets: SocketEndpoints,
        configuration: Configuration
    ) throws {
        let encoder = HTTPResponseEncoder()
        let decoder = ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes))
        let pipelining = HTTPServerPipelineHandler()
        let errors = HTTPServerProtocolErrorHandler()
        let writer = ResponseWriter(serverName: configuration.serverName)
        let requests = ResponderHandler(
            application: application, responder: responder, direct: configuration.direct,
            maxBodyBytes: configuration.maxBodyBytes, writer: writer)
        let handshakes = SocketHandshakeHandler(
            endpoints: sockets, encoder: encoder, httpHandlers: [requests, errors, pipelining, decoder], writer: writer)
        try channel.pipeline.syncOperations.addHandlers([
            encoder, decoder, pipelining, errors, handshakes, requests, NIOCloseOnErrorHandler(),
        ])
    }
}
