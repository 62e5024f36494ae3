import AsyncHTTPClient
import Foundation
import HeraldServer
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
        _ settings: [String: String] = [:], _ body: @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        let database = try await TestCluster.shared.makeDatabase()
        var environment = [
            "DATABASE_URL": try TestCluster.url(database: database), "JWT_SECRET": secret, "PORT": "0",
            "DATABASE_POOL_SIZE": "4", "LOG_LEVEL": "warning",
        ]
        environment.merge(settings, uniquingKeysWith: { _, new in new })
        let app = try await HeraldApp.start(
            try HeraldConfiguration(environment: environment), logger: TestCluster.logger)
        let server = TestServer(app: app, database: database, minter: await TokenMinter(secret: secret))
        do {
            let result = try await body(server)
            await app.shutdown()
            return result
        } catch {
            await app.shutdown()
            throw error
        }
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
