import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Vapor

/// The HTTP server (REST, the socket handshake, the operators' routes) as a service. It binds when it starts and
/// reports where (``waitUntilBound()``). On a graceful shutdown it drains before it stops: new handshakes are
/// refused with 503 (nginx hands them to another instance), every socket is closed with 1001 so its client
/// reconnects elsewhere at once, and the sockets get up to ``drainTimeout`` to go.
final class HTTPServerService: Service, Sendable {
    private let application: Application
    private let http: HeraldHTTPServer
    private let registry: SocketRegistry
    private let host: String
    private let port: Int
    private let logger: Logger
    private let bound = AsyncThrowingStream<Int, any Error>.makeStream()
    private let drain = NIOLockedValueBox(Duration.seconds(10))

    init(
        application: Application, http: HeraldHTTPServer, registry: SocketRegistry, host: String, port: Int,
        logger: Logger
    ) {
        self.application = application
        self.http = http
        self.registry = registry
        self.host = host
        self.port = port
        self.logger = logger
    }

    /// How long the sockets get to close on a graceful shutdown.
    var drainTimeout: Duration {
        get { drain.withLockedValue { $0 } }
        set { drain.withLockedValue { $0 = newValue } }
    }

    func run() async throws {
        do {
            try await http.start(address: .hostname(host, port: port))
        } catch {
            bound.continuation.finish(throwing: error)
            try? await application.asyncShutdown()
            throw error
        }
        let port = http.localAddress?.port ?? port
        logger.info("herald listening", metadata: ["host": "\(host)", "port": "\(port)"])
        bound.continuation.yield(port)
        bound.continuation.finish()
        try? await gracefulShutdown()
        let timeout = drainTimeout
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        await registry.drain(timeout: .nanoseconds(nanoseconds), on: application.eventLoopGroup.any())
        await http.shutdown()
        try? await application.asyncShutdown()
    }

    /// The port the server listens on, once it does; throws what kept it from binding.
    func waitUntilBound() async throws -> Int {
        for try await port in bound.stream { return port }
        throw CancellationError()
    }
}
