import Prometheus
import Testing
import Vapor

@testable import HeraldServer

/// ``HeraldResponder`` routes as Vapor's own responder does, from the request target as it arrived.
@Suite("Herald responder")
struct HeraldResponderTests {
    @Test("a target's path is split at slashes before any query or fragment, and percent-decoded first")
    func pathSegments() {
        #expect(HeraldResponder.pathSegments(of: "/api/v1/notifications?limit=5") == ["api", "v1", "notifications"])
        #expect(HeraldResponder.pathSegments(of: "//a//b/") == ["a", "b"])
        #expect(HeraldResponder.pathSegments(of: "/a#b?c") == ["a"])
        #expect(HeraldResponder.pathSegments(of: "/caf%C3%A9/x%20y") == ["café", "x y"])
        #expect(HeraldResponder.pathSegments(of: "/a%2Fb") == ["a", "b"])
        #expect(HeraldResponder.pathSegments(of: "/") == [])
        #expect(HeraldResponder.pathSegments(of: "/%zz") == nil)
    }

    /// What `method target` is answered with by a responder over four routes (each answers its name and its `id`),
    /// and the request series it recorded.
    static func answer(_ method: HTTPMethod, _ target: String) async throws -> (String, text: String) {
        let app = try await Application.make(.testing)
        app.middleware = Middlewares()
        app.get("items", ":id") { request in "item \(request.parameters.get("id") ?? "-")" }
        app.put("items", ":id", "read") { request in "read \(request.parameters.get("id") ?? "-")" }
        app.get("items", "all") { _ in "all" }
        app.on(.HEAD, "items", "all") { _ in "head all" }
        let registry = PrometheusCollectorRegistry()
        let responder = HeraldResponder(application: app, metrics: PrometheusMetricsFactory(registry: registry))
        let request = Request(
            application: app, method: method, url: URI(path: target), on: app.eventLoopGroup.next())
        let answer: String
        do {
            let response = try await responder.respond(to: request, target: target).get()
            answer = response.body.string ?? ""
        } catch is RouteNotFound {
            answer = "not found"
        }
        try await app.asyncShutdown()
        var text: [UInt8] = []
        registry.emit(into: &text)
        return (answer, String(decoding: text, as: UTF8.self))
    }

    @Test("constants before parameters, decoded parameters, HEAD by its own route or by GET")
    func routes() async throws {
        #expect(try await Self.answer(.GET, "/items/all").0 == "all")
        #expect(try await Self.answer(.GET, "/items/42?x=/y").0 == "item 42")
        #expect(try await Self.answer(.PUT, "//items/a%20b/read/").0 == "read a b")
        #expect(try await Self.answer(.HEAD, "/items/all").0 == "head all")
        #expect(try await Self.answer(.HEAD, "/items/7").0 == "item 7")
    }

    @Test("what it does not route goes to Vapor's responder, whose answer is Vapor's")
    func fallsBack() async throws {
        #expect(try await Self.answer(.POST, "/items/42").0 == "not found")
        #expect(try await Self.answer(.GET, "/items/42/read/more").0 == "not found")
        // A path that does not decode is routed as Vapor routes it: its `URI` takes `%zz` literally.
        #expect(try await Self.answer(.GET, "/items/%zz").0 == "item %zz")
    }

    @Test("each request is counted under its route's path, never under the path it asked for")
    func series() async throws {
        let (_, text) = try await Self.answer(.GET, "/items/42")
        #expect(text.contains(#"http_requests_total{method="GET",path="/items/:id",status="200"} 1"#))
        // Only labels are checked: the duration's digits may hold any number, "42" among them.
        #expect(!text.contains(#"path="/items/42""#))
        #expect(text.contains("http_request_duration_seconds"))
    }
}
