import Logging
import PostgresNIO
import Vapor

/// One running Herald instance: the wiring of every component, and its start and stop. Nothing else constructs
/// stores, verifiers or routes; tests start the same thing on port 0.
public final class HeraldApp: Sendable {
    public let configuration: HeraldConfiguration
    public let postgres: PostgresClient
    let application: Application
    private let postgresTask: Task<Void, Never>
    /// The port actually bound (differs from the configured one when that is 0).
    public let port: Int

    private init(
        configuration: HeraldConfiguration, postgres: PostgresClient, application: Application,
        postgresTask: Task<Void, Never>, port: Int
    ) {
        self.configuration = configuration
        self.postgres = postgres
        self.application = application
        self.postgresTask = postgresTask
        self.port = port
    }

    /// Builds and starts an instance; it serves until ``shutdown()``.
    public static func start(_ configuration: HeraldConfiguration, logger: Logger) async throws -> HeraldApp {
        let databaseURL = try configuration.requireDatabase()
        let verifier = try await configuration.makeTokenVerifier()
        let postgres = PostgresClient(
            configuration: try DatabaseURL.configuration(databaseURL, poolSize: configuration.databasePoolSize),
            backgroundLogger: logger)
        let postgresTask = Task { await postgres.run() }

        let application = try await Application.make(.init(name: "production", arguments: ["herald"]))
        application.logger = logger
        application.http.server.configuration.hostname = configuration.host
        application.http.server.configuration.port = configuration.port
        application.http.server.configuration.serverName = "herald"
        application.http.server.configuration.reuseAddress = true
        application.routes.defaultMaxBodySize = "1mb"
        application.middleware = Middlewares()
        application.middleware.use(HeraldErrorMiddleware())

        let membership = MembershipStore(client: postgres, logger: logger)
        let inbox = InboxController(
            store: InboxStore(client: postgres, logger: logger),
            parser: PublicationParser(notificationTypes: configuration.notificationTypes),
            policy: PublishPolicy(membership: membership))
        let api = application.grouped("api", "v1")
        inbox.register(on: api.grouped(BearerAuthenticator(verifier: verifier, membership: membership)))

        do {
            try await application.server.start(address: .hostname(configuration.host, port: configuration.port))
        } catch {
            postgresTask.cancel()
            try? await application.asyncShutdown()
            throw error
        }
        let port = application.http.server.shared.localAddress?.port ?? configuration.port
        logger.info("herald listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
        return HeraldApp(
            configuration: configuration, postgres: postgres, application: application, postgresTask: postgresTask,
            port: port)
    }

    /// Stops serving and closes the database pool.
    public func shutdown() async {
        await application.server.shutdown()
        try? await application.asyncShutdown()
        postgresTask.cancel()
    }
}
