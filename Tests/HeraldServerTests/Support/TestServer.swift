import AsyncHTTPClient
import Foundation
import HeraldServer
import Logging
import NIOCore
import NIOHTTP1

/// A live Herald instance on its own database and an ephemeral port, reached over real HTTP.
struct TestServer: Sendable {
    static let secret = "test-secret-0123456789abcdef-0123456789"

    let app: HeraldApp
    let database: String
    let minter: TokenMinter

    /// Starts a server with `settings` on top of the test defaults, runs `body`, and stops it.
    static func with<T: Sendable>(
        _ settings: [String: String] = [:], logger: Logger = TestCluster.logger,
        _ body: @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        try await withInstances(1, settings, logger: logger) { servers in try await body(servers[0]) }
    }

    /// Starts `count` instances on one database, as behind a load balancer, runs `body`, and stops them.
    static func withInstances<T: Sendable>(
        _ count: Int, _ settings: [String: String] = [:], logger: Logger = TestCluster.logger,
        _ body: @Sendable ([TestServer]) async throws -> T
    ) async throws -> T {
        let database = try await TestCluster.shared.makeDatabase()
        var servers: [TestServer] = []
        do {
            for index in 0..<count {
                servers.append(
                    try await start(database: database, settings: settings, instance: "test-\(index)", logger: logger))
            }
            let result = try await body(servers)
            for server in servers { await server.app.shutdown(timeout: .seconds(2)) }
            return result
        } catch {
            for server in servers { await server.app.shutdown(timeout: .seconds(2)) }
            throw error
        }
    }

    static func start(
        database: String, settings: [String: String], instance: String, logger: Logger = TestCluster.logger
    ) async throws -> TestServer {
        var environment = [
            "DATABASE_URL": try TestCluster.url(database: database), "JWT_SECRET": secret, "PORT": "0",
            "DATABASE_POOL_SIZE": "4", "LOG_LEVEL": "warning", "INSTANCE_ID": instance,
        ]
        environment.merge(settings, uniquingKeysWith: { _, new in new })
        let app = try await HeraldApp.start(
            try HeraldConfiguration(environment: environment), logger: logger)
        let server = TestServer(app: app, database: database, minter: await TokenMinter(secret: secret))
        try await server.waitUntilReady()
        return server
    }

    /// Waits for the NOTIFY listener, so nothing published by the test can slip past it.
    func waitUntilReady() async throws {
        for _ in 0..<500 {
            if try await request(.GET, "/api/v1/health/ready").status == .ok { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TestSetupError("server not ready")
    }

    var baseURL: String { "http://127.0.0.1:\(app.port)" }

    func token(
        _ sub: String, locations: [String] = [], role: Role = .user, scope: String? = nil, ttl: Double = 600
    ) async throws -> String {
        try await minter.mint(sub: sub, locations: locations, role: role, scope: scope, ttl: ttl)
    }

    /// An admin token, for publishing in tests that are not about permissions.
    func adminToken() async throws -> String { try await token("admin", role: .admin) }

    @discardableResult
    func request(
        _ method: HTTPMethod, _ path: String, token: String? = nil, json: String? = nil,
        headers extra: [(String, String)] = []
    ) async throws -> TestResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return TestResponse(status: response.status, headers: response.headers, body: String(buffer: body))
    }

    /// Publishes as admin and returns the new ids.
    func publish(_ json: String, token: String? = nil) async throws -> [Int64] {
        let publisher: String
        if let token { publisher = token } else { publisher = try await adminToken() }
        let response = try await request(.POST, "/api/v1/notifications", token: publisher, json: json)
        guard response.status == .created, case .array(let ids)? = response.json?["ids"] else {
            throw TestSetupError("publish failed: \(response.status) \(response.body)")
        }
        return ids.compactMap(\.int64Value)
    }

    /// Runs SQL against this server's database.
    func sql(_ statement: String) async throws {
        try await app.postgres.query(PostgresQueryText.make(statement))
    }
}
