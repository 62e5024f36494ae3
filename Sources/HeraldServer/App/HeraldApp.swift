import CoreMetrics
import Logging
import PostgresNIO
import ServiceLifecycle
import UnixSignals
import Vapor

/// One running Herald instance: the wiring of every component, and its start and stop. Nothing else constructs
/// stores, verifiers or routes; tests start the same thing on port 0.
///
/// Everything long-lived is a service in one `ServiceGroup`, started in this order and shut down gracefully in the
/// reverse one: the PostgreSQL pool, the database gate's probe, the NOTIFY listener, the instance lease, the
/// membership writer, the socket journal, the sweeper, and last the HTTP server. A SIGTERM (or ``shutdown(timeout:)``)
/// therefore drains the sockets first (1001), then writes what the journal and the membership writer still hold,
/// gives the lease back, and closes the listener and the pool.
public final class HeraldApp: Sendable {
    public let configuration: HeraldConfiguration
    public let postgres: PostgresClient
    let application: Application
    let registry: SocketRegistry
    public let metrics: HeraldMetrics
    private let group: ServiceGroup
    private let running: Task<Void, any Error>
    private let server: HTTPServerService
    /// The port actually bound (differs from the configured one when that is 0).
    public let port: Int

    private init(
        configuration: HeraldConfiguration, postgres: PostgresClient, application: Application,
        registry: SocketRegistry, metrics: HeraldMetrics, group: ServiceGroup, running: Task<Void, any Error>,
        server: HTTPServerService, port: Int
    ) {
        self.configuration = configuration
        self.postgres = postgres
        self.application = application
        self.registry = registry
        self.metrics = metrics
        self.group = group
        self.running = running
        self.server = server
        self.port = port
    }

    /// Builds and starts an instance; it serves until ``shutdown()``. `metrics` is where its series go (`herald
    /// serve` shares it with swift-metrics' global factory, so Vapor's HTTP series land there too).
    ///
    /// With `signals` (`herald serve`: SIGTERM and SIGINT), receiving one shuts the instance down gracefully.
    public static func start(
        _ configuration: HeraldConfiguration, logger: Logger, metrics: HeraldMetrics = HeraldMetrics(),
        signals: [UnixSignal] = []
    ) async throws -> HeraldApp {
        let databaseURL = try configuration.requireDatabase()
        let verifier = try await configuration.makeTokenVerifier()
        let timeouts = DatabaseTimeouts(requestTimeout: configuration.requestTimeout)
        let connectionLoops = ConnectionLoops(MultiThreadedEventLoopGroup.singleton)
        let postgres = PostgresClient(
            configuration: try DatabaseURL.configuration(
                databaseURL, poolSize: configuration.databasePoolSize, timeouts: timeouts),
            eventLoopGroup: connectionLoops, backgroundLogger: logger)
        let commits = DedicatedConnection(
            configuration: try DatabaseURL.dedicatedConfiguration(databaseURL, timeouts: timeouts),
            loops: connectionLoops, logger: logger)

        let application = try await Application.make(.init(name: "production", arguments: ["herald"]))
        application.logger = logger
        application.routes.defaultMaxBodySize = ByteCount(value: Self.maxBodyBytes)
        application.middleware = Middlewares()
        let clients = ClientAddress(trustedProxies: configuration.trustedProxies, logger: logger)
        application.middleware.use(RequestLogMiddleware(clients: clients))
        let membership = MembershipStore(
            client: postgres, maxAge: configuration.membershipMaxAge, logger: logger)
        let inboxStore = InboxStore(client: postgres, logger: logger)
        let fanout = FanoutStore(client: postgres, logger: logger)
        let gate = DatabaseGate(logger: logger, probe: { await fanout.isReachable() })
        let errors = HeraldErrorMiddleware(metrics: metrics, gate: gate)
        application.middleware.use(errors)

        let parser = PublicationParser(notificationTypes: configuration.notificationTypes)
        let policy = PublishPolicy(membership: membership)
        let loops = Array(application.eventLoopGroup.makeIterator())
        let registry = SocketRegistry(
            eventLoops: loops, inbox: inboxStore,
            limiter: ConnectionLimiter(
                limit: configuration.maxConnectionsPerUser, policy: configuration.limitPolicy), metrics: metrics)
        let node = ClusterNode(instanceID: configuration.instanceID, version: RealtimeController.version)
        let cluster = ClusterStore(client: postgres, logger: logger)
        let revocations = RevocationStore(client: postgres, logger: logger)
        let journal = SessionJournal(
            store: cluster, node: node, limit: configuration.maxConnectionsPerUser, policy: configuration.limitPolicy,
            registry: registry, metrics: metrics, logger: logger)
        let dispatcher = FanoutDispatcher(
            registry: registry, store: fanout, instanceID: configuration.instanceID, incarnation: node.incarnation,
            revocations: verifier.revocations, revocationStore: revocations, logger: logger, metrics: metrics)
        let listener = NotifyListener(
            configuration: try DatabaseURL.connectionConfiguration(databaseURL),
            target: DatabaseURL.target(databaseURL), dispatcher: dispatcher,
            logger: logger, metrics: metrics, gate: gate)
        let sweeper = InboxSweeper(
            store: SweepStore(client: postgres, idempotencyWindow: configuration.idempotencyWindow, logger: logger),
            logger: logger)
        let lease = InstanceLease(
            store: cluster, node: node, lease: configuration.instanceLease, registry: registry, listener: listener,
            journal: journal, logger: logger)

        var sockets = SocketEndpoints(clients: clients, logger: logger, metrics: metrics)
        // Every route has a deadline but the socket paths' (handshakes never reach Vapor; a plain GET there is
        // answered 400 at once). Routes that wait on anything run in one task each, which the deadline cancels
        // (`on(_:_:body:task:)`).
        let timed = application.grouped(DeadlineMiddleware(seconds: configuration.requestTimeout))
        let api = timed.grouped("api", "v1")
        // `PublishRoute` answers the common publish ahead of this group and repeats its checks: a middleware added
        // here must be added there too.
        let authenticated = api.grouped(
            DatabaseGateMiddleware(gate: gate), BearerAuthenticator(verifier: verifier, membership: membership))
        let publisher = PublishStore(
            client: postgres, commits: commits, logger: logger, requestTimeout: configuration.requestTimeout)
        InboxController(
            store: inboxStore,
            publisher: publisher,
            parser: parser,
            policy: policy,
            notifier: InboxNotifier(inbox: inboxStore, fanout: fanout, logger: logger), metrics: metrics
        ).register(on: authenticated)
        EventsController(
            parser: parser, policy: policy, registry: registry, fanout: fanout, instanceID: configuration.instanceID
        ).register(on: authenticated)
        RealtimeController(
            verifier: verifier, membership: membership,
            services: RealtimeServices(
                inbox: inboxStore, verifier: verifier, membership: membership,
                heartbeatInterval: configuration.heartbeatInterval,
                resumeMax: configuration.resumeMax, logger: logger, metrics: metrics,
                handshakes: HandshakeGuard(
                    maxSockets: configuration.maxSockets, ratePerAddress: configuration.connectRate),
                journal: journal),
            registry: registry, listener: listener, fanout: fanout, node: node,
            clusterStatus: ClusterStatus(store: cluster), maxMessageBytes: configuration.maxMessageBytes,
            sendBufferBytes: configuration.sendBufferBytes,
            deflate: configuration.compression ? try DeflateCodecs(eventLoops: loops) : nil, clients: clients
        ).register(
            sockets: &sockets, routes: application.grouped("api", "v1"), on: api,
            conformanceEcho: configuration.conformanceEcho)
        SessionsController(
            cluster: cluster, membership: membership, fanout: fanout, revocations: revocations, metrics: metrics
        ).register(on: authenticated)
        let health = HealthController(fanout: fanout, listener: listener)
        let scrape = MetricsController(metrics: metrics, registry: registry)
        // Operators' endpoints answer at the root too, where probes and Prometheus look by default.
        for routes in [api, timed] {
            health.register(on: routes)
            scrape.register(on: routes)
        }
        WebController(notificationTypes: configuration.notificationTypes, version: RealtimeController.version)
            .register(on: timed)
        application.middleware.use(MethodNotAllowedMiddleware(routes: application.routes.all))
        registry.startHeartbeats(interval: configuration.heartbeatInterval)

        let direct = DirectRoutes(
            [
                PublishRoute(
                    gate: gate, verifier: verifier, membership: membership, parser: parser, publisher: publisher,
                    metrics: metrics)
            ],
            requestTimeout: configuration.requestTimeout, errors: errors, clients: clients, logger: logger,
            metrics: application.http.server.configuration.reportMetrics ? MetricsSystem.factory : nil)
        let http = HeraldHTTPServer(
            application: application, sockets: sockets,
            configuration: .init(maxBodyBytes: Self.maxBodyBytes, direct: direct))
        application.servers.use { _ in http }
        let server = HTTPServerService(
            application: application, http: http, registry: registry, host: configuration.host,
            port: configuration.port, logger: logger)
        var lifecycle = ServiceGroupConfiguration(
            services: [postgres, commits, gate, listener, lease, membership, journal, sweeper, server],
            gracefulShutdownSignals: signals, logger: logger)
        // A service stuck in its shutdown (a database that stopped answering) cannot hold the process for ever.
        lifecycle.maximumGracefulShutdownDuration = .seconds(60)
        let group = ServiceGroup(configuration: lifecycle)
        let running = Task { try await group.run() }
        do {
            let port = try await server.waitUntilBound()
            return HeraldApp(
                configuration: configuration, postgres: postgres, application: application, registry: registry,
                metrics: metrics, group: group, running: running, server: server, port: port)
        } catch {
            await group.triggerGracefulShutdown()
            _ = await running.result
            throw error
        }
    }

    /// Every route as `METHOD /path`, with parameters as `{name}`, and the statuses it declares it answers: what
    /// the OpenAPI document must describe.
    public var routeDescriptions: [String: Set<Int>] {
        var routes: [String: Set<Int>] = [:]
        for route in application.routes.all {
            let path = route.path.map { component -> String in
                if case .parameter(let name) = component { return "{\(name)}" }
                return component.description
            }
            routes["\(route.method.rawValue) /" + path.joined(separator: "/")] = route.statuses
        }
        return routes
    }

    /// Shuts the instance down gracefully (as a SIGTERM does): the sockets drain with 1001 for at most `timeout`,
    /// then every service stops in turn. Returns when all have.
    public func shutdown(timeout: Duration = .seconds(10)) async {
        server.drainTimeout = timeout
        await group.triggerGracefulShutdown()
        let running = running
        let stopped = await Timebox.value(within: timeout + Self.stopGrace) { () -> Bool in
            _ = await running.result
            return true
        }
        if stopped != true {
            application.logger.error("the services did not stop in time after the drain; cancelling them")
            running.cancel()
        }
    }

    /// The largest request body, a 1 MB publish (nginx's `client_max_body_size` is the same).
    static let maxBodyBytes = 1 << 20

    /// How long the services get, after the drain, to write what they hold and let go of the database.
    static let stopGrace: Duration = .seconds(20)

    /// Waits until the instance has stopped (after a signal given to ``start(_:logger:metrics:signals:)``, or a
    /// ``shutdown(timeout:)``); throws what stopped it if a service failed.
    public func waitUntilStopped() async throws {
        try await running.value
    }
}
