import Logging
import PostgresNIO
import Vapor

/// One running Herald instance: the wiring of every component, and its start and stop. Nothing else constructs
/// stores, verifiers or routes; tests start the same thing on port 0.
public final class HeraldApp: Sendable {
    public let configuration: HeraldConfiguration
    public let postgres: PostgresClient
    let application: Application
    let registry: SocketRegistry
    public let metrics: HeraldMetrics
    private let postgresTask: Task<Void, Never>
    private let listenerTask: Task<Void, Never>
    private let sweepTask: Task<Void, Never>
    private let leaseTask: Task<Void, Never>
    private let lease: InstanceLease
    private let journal: SessionJournal
    /// The port actually bound (differs from the configured one when that is 0).
    public let port: Int

    private init(
        configuration: HeraldConfiguration, postgres: PostgresClient, application: Application,
        registry: SocketRegistry, metrics: HeraldMetrics, postgresTask: Task<Void, Never>,
        listenerTask: Task<Void, Never>, sweepTask: Task<Void, Never>, leaseTask: Task<Void, Never>,
        lease: InstanceLease, journal: SessionJournal, port: Int
    ) {
        self.configuration = configuration
        self.postgres = postgres
        self.application = application
        self.registry = registry
        self.metrics = metrics
        self.postgresTask = postgresTask
        self.listenerTask = listenerTask
        self.sweepTask = sweepTask
        self.leaseTask = leaseTask
        self.lease = lease
        self.journal = journal
        self.port = port
    }

    /// Builds and starts an instance; it serves until ``shutdown()``. `metrics` is where its series go (`herald
    /// serve` shares it with swift-metrics' global factory, so Vapor's HTTP series land there too).
    public static func start(
        _ configuration: HeraldConfiguration, logger: Logger, metrics: HeraldMetrics = HeraldMetrics()
    ) async throws -> HeraldApp {
        let databaseURL = try configuration.requireDatabase()
        let verifier = try await configuration.makeTokenVerifier()
        let postgres = PostgresClient(
            configuration: try DatabaseURL.configuration(
                databaseURL, poolSize: configuration.databasePoolSize,
                timeouts: DatabaseTimeouts(requestTimeout: configuration.requestTimeout)),
            backgroundLogger: logger)
        let postgresTask = Task { await postgres.run() }

        let application = try await Application.make(.init(name: "production", arguments: ["herald"]))
        application.logger = logger
        application.http.server.configuration.logger = logger
        application.http.server.configuration.hostname = configuration.host
        application.http.server.configuration.port = configuration.port
        application.http.server.configuration.serverName = "herald"
        application.http.server.configuration.reuseAddress = true
        application.routes.defaultMaxBodySize = "1mb"
        application.middleware = Middlewares()
        let clients = ClientAddress(trustedProxies: configuration.trustedProxies, logger: logger)
        application.middleware.use(RequestLogMiddleware(clients: clients))
        let membership = MembershipStore(
            client: postgres, maxAge: configuration.membershipMaxAge, logger: logger)
        let inboxStore = InboxStore(client: postgres, logger: logger)
        let fanout = FanoutStore(client: postgres, logger: logger)
        let gate = DatabaseGate(logger: logger, probe: { await fanout.isReachable() })
        application.middleware.use(HeraldErrorMiddleware(metrics: metrics, gate: gate))
        application.middleware.use(DeadlineMiddleware(seconds: configuration.requestTimeout))

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
        let listenerTask = Task { await listener.run() }
        let sweeper = InboxSweeper(
            store: SweepStore(client: postgres, idempotencyWindow: configuration.idempotencyWindow, logger: logger),
            logger: logger)
        let sweepTask = Task { await sweeper.run() }
        let lease = InstanceLease(
            store: cluster, node: node, lease: configuration.instanceLease, registry: registry, listener: listener,
            journal: journal, logger: logger)
        let leaseTask = Task { await lease.run() }

        let api = application.grouped("api", "v1")
        let authenticated = api.grouped(
            DatabaseGateMiddleware(gate: gate), BearerAuthenticator(verifier: verifier, membership: membership))
        InboxController(
            store: inboxStore, publisher: PublishStore(client: postgres, logger: logger), parser: parser,
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
            sendBufferBytes: configuration.sendBufferBytes, clients: clients
        ).register(on: api, conformanceEcho: configuration.conformanceEcho)
        SessionsController(
            cluster: cluster, membership: membership, fanout: fanout, revocations: revocations, metrics: metrics
        ).register(on: authenticated)
        let health = HealthController(fanout: fanout, listener: listener)
        let scrape = MetricsController(metrics: metrics, registry: registry)
        // Operators' endpoints answer at the root too, where probes and Prometheus look by default.
        for routes in [api, application.routes as any RoutesBuilder] {
            health.register(on: routes)
            scrape.register(on: routes)
        }
        WebController(notificationTypes: configuration.notificationTypes, version: RealtimeController.version)
            .register(on: application.routes)
        application.middleware.use(MethodNotAllowedMiddleware(routes: application.routes.all))
        registry.startHeartbeats(interval: configuration.heartbeatInterval)

        do {
            try await application.server.start(address: .hostname(configuration.host, port: configuration.port))
        } catch {
            listenerTask.cancel()
            sweepTask.cancel()
            leaseTask.cancel()
            postgresTask.cancel()
            try? await application.asyncShutdown()
            throw error
        }
        let port = application.http.server.shared.localAddress?.port ?? configuration.port
        logger.info("herald listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
        return HeraldApp(
            configuration: configuration, postgres: postgres, application: application, registry: registry,
            metrics: metrics, postgresTask: postgresTask, listenerTask: listenerTask, sweepTask: sweepTask,
            leaseTask: leaseTask, lease: lease, journal: journal, port: port)
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

    /// Drains (SPEC §5): stops admitting sockets, closes every socket with 1001 and waits for them to go (at most
    /// `timeout`), then stops the HTTP server, the listener and the database pool.
    public func shutdown(timeout: Duration = .seconds(10)) async {
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        await registry.drain(timeout: .nanoseconds(nanoseconds), on: application.eventLoopGroup.any())
        await application.server.shutdown()
        try? await application.asyncShutdown()
        leaseTask.cancel()
        await lease.leave()
        listenerTask.cancel()
        sweepTask.cancel()
        postgresTask.cancel()
    }
}
