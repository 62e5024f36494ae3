import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Prometheus
import Testing
import Vapor

@testable import HeraldServer

/// Routes answered ahead of Vapor's responder (``DirectRoutes``), on a connection's pipeline: what they take they
/// answer as Vapor's routes answer, with the request's id, its deadline, the one map of failures and the request
/// series; what they leave reaches Vapor's route at the same path as if they did not exist.
@Suite("Direct routes")
struct DirectRoutesTests {
    /// `POST /api/v1/items`, answered as `script` says; Vapor has a route at the same path that answers "vapor".
    struct ScriptedRoute: DirectRoute {
        let method = HTTPMethod.POST
        let path = ["api", "v1", "items"]
        let script: @Sendable (DirectRequest) -> EventLoopFuture<DirectResponse>?

        func answer(_ request: DirectRequest) -> EventLoopFuture<DirectResponse>? { script(request) }
    }

    /// Echoes the body with 201, leaves a body of `leave` to Vapor, fails a body of `fail` with a 401, and holds a
    /// body of `hold` in `held` until the test completes it.
    final class Script: Sendable {
        let held = NIOLockedValueBox<EventLoopPromise<DirectResponse>?>(nil)
        let registry = PrometheusCollectorRegistry()

        func answer(_ request: DirectRequest) -> EventLoopFuture<DirectResponse>? {
            let body = request.body.map { String(buffer: $0) } ?? ""
            switch body {
            case "leave":
                return nil
            case "fail":
                return request.eventLoop.makeFailedFuture(HeraldError.unauthorized("token expired"))
            case "hold":
                let promise = request.eventLoop.makePromise(of: DirectResponse.self)
                held.withLockedValue { $0 = promise }
                return promise.futureResult
            default:
                var writer = JSONWriter()
                writer.beginObject()
                writer.key("echo")
                writer.string(body)
                writer.endObject()
                return request.eventLoop.makeSucceededFuture(DirectResponse(json: .created, writer))
            }
        }

        /// The routes, with a one-second deadline, for `app`, which gets the Vapor route at the same path.
        func routes(_ app: Application) -> DirectRoutes {
            app.on(.POST, "api", "v1", "items") { _ -> String in "vapor" }
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            return DirectRoutes(
                [ScriptedRoute { self.answer($0) }], requestTimeout: 1,
                errors: HeraldErrorMiddleware(metrics: HeraldMetrics(), gate: DatabaseGate(logger: logger) { true }),
                clients: ClientAddress(trustedProxies: [], logger: logger), logger: logger,
                metrics: PrometheusMetricsFactory(registry: registry))
        }

        var series: String {
            var text: [UInt8] = []
            registry.emit(into: &text)
            return String(decoding: text, as: UTF8.self)
        }
    }

    static func post(_ path: String, _ body: String, id: String = "r-1") -> String {
        "POST \(path) HTTP/1.1\r\nHost: h\r\nX-Request-Id: \(id)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    @Test("a request the route takes is its answer, with the request's id and the usual head; Vapor never sees it")
    func taken() async throws {
        let script = Script()
        try await HTTPPipelineTests.with(direct: script.routes) { connection in
            let response = try connection.send(Self.post("/api/v1/items", "hi"))
            #expect(response.hasPrefix("HTTP/1.1 201 Created\r\n"))
            #expect(response.hasSuffix(#"{"echo":"hi"}"#))
            #expect(HTTPPipelineTests.header("x-request-id", in: response) == "r-1")
            #expect(HTTPPipelineTests.header("content-type", in: response) == "application/json")
            #expect(HTTPPipelineTests.header("content-length", in: response) == "13")
            #expect(HTTPPipelineTests.header("server", in: response) == "herald")
            #expect(HTTPPipelineTests.header("connection", in: response) == "keep-alive")
            // The same route written another way, as Vapor would route it; another method is not the route's.
            #expect(try connection.send(Self.post("/api//v1/items/", "x")).hasSuffix(#"{"echo":"x"}"#))
            #expect(try connection.send(Self.post("/api/v1/%69tems", "y")).hasSuffix(#"{"echo":"y"}"#))
            let other = try connection.send("PUT /api/v1/items HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(other.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
            #expect(connection.isOpen)
        }
        #expect(script.series.contains(#"http_requests_total{method="POST",path="/api/v1/items",status="201"} 3"#))
    }

    @Test("a request the route leaves is Vapor's route's; a bad request id is replaced on the route's answer")
    func left() async throws {
        let script = Script()
        try await HTTPPipelineTests.with(direct: script.routes) { connection in
            let response = try connection.send(Self.post("/api/v1/items", "leave"))
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(response.hasSuffix("vapor"))
            let taken = try connection.send(Self.post("/api/v1/items", "mine", id: "bad id!"))
            let id = try #require(HTTPPipelineTests.header("x-request-id", in: taken))
            #expect(!id.isEmpty && id != "bad id!")
        }
        // What Vapor answered is counted by Vapor's responder, not twice here.
        #expect(script.series.contains(#"http_requests_total{method="POST",path="/api/v1/items",status="201"} 1"#))
        #expect(!script.series.contains(#"status="200""#))
    }

    @Test("a failure is answered through the one map of failures, as a Vapor route's is")
    func failure() async throws {
        let script = Script()
        try await HTTPPipelineTests.with(direct: script.routes) { connection in
            let response = try connection.send(Self.post("/api/v1/items", "fail"))
            #expect(response.hasPrefix("HTTP/1.1 401 Unauthorized\r\n"))
            #expect(response.hasSuffix(#"{"detail":"token expired"}"#))
            #expect(HTTPPipelineTests.header("www-authenticate", in: response) == "Bearer")
            #expect(HTTPPipelineTests.header("x-request-id", in: response) == "r-1")
            #expect(connection.isOpen)
        }
        #expect(script.series.contains(#"http_requests_total{method="POST",path="/api/v1/items",status="401"} 1"#))
    }

    @Test("an answer later than the deadline is a 503 that says the publish may have happened; the late one is dropped")
    func deadline() async throws {
        let script = Script()
        try await HTTPPipelineTests.with(direct: script.routes) { connection in
            #expect(try connection.send(Self.post("/api/v1/items", "hold")).isEmpty)
            connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(999))
            #expect(try connection.send("").isEmpty, "not yet")
            connection.channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
            let response = try connection.send("")
            #expect(response.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
            #expect(response.contains("whether it took effect is unknown"))
            #expect(HTTPPipelineTests.header("retry-after", in: response) == "1")
            let late = try #require(script.held.withLockedValue { $0 })
            late.succeed(DirectResponse(json: .created, JSONWriter()))
            #expect(try connection.send("").isEmpty, "the late answer is not written")
            // The connection goes on with the next request.
            #expect(try connection.send(Self.post("/api/v1/items", "next")).hasSuffix(#"{"echo":"next"}"#))
        }
        #expect(script.series.contains(#"http_requests_total{method="POST",path="/api/v1/items",status="503"} 1"#))
        #expect(
            script.series.contains(#"http_request_errors_total{method="POST",path="/api/v1/items",status="503"} 1"#))
    }
}
