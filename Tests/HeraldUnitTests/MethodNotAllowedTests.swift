import Testing
import Vapor

@testable import HeraldServer

/// 405 with `Allow` for a known path and the wrong method; everything else is the router's answer.
@Suite("Method not allowed")
struct MethodNotAllowedTests {
    /// What the middleware makes of `method path` on a few of Herald's routes, in front of Vapor's router: the
    /// allowed methods it refuses with, or `nil` when the router's answer stands (the route's, or its 404).
    static func refusal(_ method: HTTPMethod, _ path: String) async throws -> [String]? {
        let app = try await Application.make(.testing)
        let ok: @Sendable (Request) async throws -> HTTPStatus = { _ in .ok }
        let notifications: [PathComponent] = ["api", "v1", "notifications"]
        app.get(notifications, use: ok)
        app.delete(notifications, use: ok)
        app.post(notifications, use: ok)
        app.put(notifications + ["read-all"], use: ok)
        app.delete(notifications + [":id"], use: ok)
        app.put(notifications + [":id", "read"], use: ok)
        let middleware = MethodNotAllowedMiddleware(routes: app.routes.all)
        // Vapor's own router, with no middleware of its own to turn a missing route into a response.
        app.middleware = Middlewares()
        let router = app.responder.current
        let request = Request(application: app, method: method, url: URI(path: path), on: app.eventLoopGroup.next())
        var refused: [String]?
        do {
            _ = try await middleware.respond(to: request, chainingTo: router).get()
        } catch HeraldError.methodNotAllowed(let allowed) {
            refused = allowed
        } catch is RouteNotFound {
            refused = nil
        }
        try await app.asyncShutdown()
        return refused
    }

    @Test("a known path with another method is refused with the methods it takes; the most specific path decides")
    func refused() async throws {
        #expect(try await Self.refusal(.PATCH, "/api/v1/notifications") == ["DELETE", "GET", "POST"])
        // `read-all` is its own route, not `{id}` = "read-all": only PUT.
        #expect(try await Self.refusal(.GET, "/api/v1/notifications/read-all") == ["PUT"])
        #expect(try await Self.refusal(.GET, "/api/v1/notifications/42") == ["DELETE"])
        #expect(try await Self.refusal(.POST, "/api/v1/notifications/42/read/") == ["PUT"])
    }

    @Test("allowed methods, HEAD on a GET route and unknown paths go on to the router")
    func passed() async throws {
        #expect(try await Self.refusal(.DELETE, "/api/v1/notifications/42") == nil)
        #expect(try await Self.refusal(.PUT, "/api/v1/notifications/read-all") == nil)
        #expect(try await Self.refusal(.HEAD, "/api/v1/notifications") == nil)
        #expect(try await Self.refusal(.GET, "/api/v1/nowhere") == nil)
        #expect(try await Self.refusal(.GET, "/api/v1/notifications/42/read/extra") == nil)
    }
}
