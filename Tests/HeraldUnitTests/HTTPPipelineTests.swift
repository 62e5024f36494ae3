import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing
import Vapor

@testable import HeraldServer

/// A connection's HTTP pipeline (``HeraldHTTPServer``) on an `EmbeddedChannel`, fed bytes as a client sends them:
/// requests reach Vapor's router through ``ResponderHandler``, socket handshakes are answered ahead of it by
/// ``SocketHandshakeHandler``, on any request of a kept-alive connection.
@Suite("HTTP pipeline")
struct HTTPPipelineTests {
    static let handshake =
        "GET /api/v1/ws?token=t HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

    /// One connection of a server with three routes, a socket endpoint that echoes (or refuses when the query says
    /// `refuse`) and a 16-byte body limit; `calls` counts what reached a route or the endpoint.
    final class Connection {
        let app: Application
        let channel = EmbeddedChannel()
        let calls = NIOLockedValueBox(0)
        let metrics = HeraldMetrics()

        init(app: Application, direct: DirectRoutes? = nil) throws {
            self.app = app
            app.middleware = Middlewares()
            let calls = calls
            let metrics = metrics
            app.get("hello") { _ -> String in
                calls.withLockedValue { $0 += 1 }
                return "hi"
            }
            app.on(.POST, "count", body: .collect(maxSize: "1kb")) { request -> String in
                calls.withLockedValue { $0 += 1 }
                return String(request.body.data?.readableBytes ?? 0)
            }
            app.get("api", "v1", "ws") { _ -> String in "vapor" }
            var logger = Logger(label: "test")
            logger.logLevel = .critical
            var sockets = SocketEndpoints(
                clients: ClientAddress(trustedProxies: [], logger: logger), logger: logger, metrics: metrics)
            sockets.register("api/v1/ws") { handshake in
                calls.withLockedValue { $0 += 1 }
                if handshake.query?.contains("refuse") == true { throw HeraldError.tooManyRequests("slow down") }
                return SocketProtocolUpgrader(
                    offers: [], maxMessageBytes: 1024, sendBufferBytes: 1 << 20, deflate: nil
                ) { _ in ConformanceEchoHandler() }
            }
            try HeraldHTTPServer.configure(
                channel, application: app, responder: HeraldResponder(application: app), sockets: sockets,
                configuration: .init(maxBodyBytes: 16, direct: direct))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        /// The error the pipeline last passed to its end (and so closed the connection for), if any.
        var error: (any Error)?

        /// Sends `text` and returns everything written back once the loop has run.
        func send(_ text: String) throws -> String {
            String(decoding: try send(Array(text.utf8)), as: UTF8.self)
        }

        func send(_ bytes: [UInt8]) throws -> [UInt8] {
            do {
                try channel.writeInbound(ByteBuffer(bytes: bytes))
                for _ in 0..<5 { channel.embeddedEventLoop.run() }
                try channel.throwIfErrorCaught()
            } catch {
                self.error = error
            }
            var written: [UInt8] = []
            while let buffer = try channel.readOutbound(as: ByteBuffer.self) { written += buffer.readableBytesView }
            return written
        }

        var isOpen: Bool { channel.isActive }
    }

    /// Runs `body` with a connection; `direct`, made for the application, answers ahead of Vapor's responder.
    static func with(
        direct: ((Application) -> DirectRoutes)? = nil, _ body: (Connection) throws -> Void
    ) async throws {
        let app = try await Application.make(.testing)
        do {
            try body(try Connection(app: app, direct: direct?(app)))
        } catch {
            try await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    static func header(_ name: String, in response: String) -> String? {
        response.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix(name + ": ") }
            .map { String($0.dropFirst(name.count + 2)) }
    }

    @Test("a request reaches Vapor's router and is answered with its length, Date, Server and keep-alive")
    func restRequest() async throws {
        try await Self.with { connection in
            let response = try connection.send("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(response.hasSuffix("\r\n\r\nhi"))
            #expect(Self.header("content-length", in: response) == "2")
            #expect(Self.header("server", in: response) == "herald")
            #expect(Self.header("connection", in: response) == "keep-alive")
            let date = try #require(Self.header("date", in: response))
            #expect(Date(rfc1123: date) != nil)
            // HEAD: the same head, no body.
            let head = try connection.send("HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(head.hasPrefix("HTTP/1.1 200 OK\r\n") && head.hasSuffix("\r\n\r\n"))
            #expect(Self.header("content-length", in: head) == "2")
            // A route's error goes through the one map of failures.
            let missing = try connection.send("GET /nowhere HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
            #expect(missing.hasPrefix("HTTP/1.1 404 Not Found\r\n"))
            #expect(missing.hasSuffix(#"{"detail":"Not Found"}"#))
            #expect(Self.header("connection", in: missing) == "close")
        }
    }

    @Test("a body over the limit is refused with 413 before a route sees it; one at the limit arrives whole")
    func bodyLimit() async throws {
        try await Self.with { connection in
            let fits = try connection.send(
                "POST /count HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n"
            )
            #expect(fits.hasPrefix("HTTP/1.1 200 OK\r\n") && fits.hasSuffix("\r\n\r\n16"))
            #expect(connection.calls.withLockedValue { $0 } == 1)
            // Refused from its Content-Length alone, before any of it is read.
            let declared = try connection.send("POST /count HTTP/1.1\r\nHost: h\r\nContent-Length: 17\r\n\r\n")
            #expect(declared.hasPrefix("HTTP/1.1 413 Payload Too Large\r\n"))
            #expect(Self.header("connection", in: declared) == "close")
            #expect(declared.contains(#"{"detail":"request body larger than 16 bytes"}"#))
            #expect(connection.calls.withLockedValue { $0 } == 1)
            #expect(!connection.isOpen)
        }
        try await Self.with { connection in
            // A chunked body, as soon as it passes the limit.
            let chunked = try connection.send(
                "POST /count HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n1234567812345678\r\n1\r\nx\r\n"
            )
            #expect(chunked.hasPrefix("HTTP/1.1 413 Payload Too Large\r\n"))
            #expect(connection.calls.withLockedValue { $0 } == 0)
        }
    }

    @Test("a handshake after a request on the same connection switches, and a frame sent with it is answered")
    func handshakeAfterRequest() async throws {
        try await Self.with { connection in
            #expect(try connection.send("GET /hello HTTP/1.1\r\nHost: h\r\n\r\n").hasPrefix("HTTP/1.1 200 OK\r\n"))
            // The handshake and a masked text frame ("ping") in one write, as a hasty client might send them.
            let mask: [UInt8] = [1, 2, 3, 4]
            let frame: [UInt8] = [0x81, 0x80 | 4] + mask + zip(Array("ping".utf8), [0, 1, 2, 3]).map { $0 ^ mask[$1] }
            let bytes = try connection.send(Array(Self.handshake.utf8) + frame)
            let response = String(decoding: bytes, as: UTF8.self)
            #expect(response.hasPrefix("HTTP/1.1 101 Switching Protocols\r\n"))
            #expect(Self.header("sec-websocket-accept", in: response) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
            // The echo's frame follows the 101: unmasked, text, "ping".
            let echo: [UInt8] = [0x0D, 0x0A, 0x0D, 0x0A, 0x81, 4] + Array("ping".utf8)
            #expect(Array(bytes.suffix(10)) == echo)
            #expect(connection.isOpen)
            #expect(throws: (any Error).self) {
                try connection.channel.pipeline.syncOperations.handler(type: ResponderHandler.self)
            }
            #expect(throws: (any Error).self) {
                try connection.channel.pipeline.syncOperations.handler(type: SocketHandshakeHandler.self)
            }
        }
    }

    @Test("a refused handshake is answered as REST answers, then closed; a plain GET there goes to Vapor")
    func refusedHandshake() async throws {
        try await Self.with { connection in
            let refused = try connection.send(Self.handshake.replacingOccurrences(of: "token=t", with: "refuse"))
            #expect(refused.hasPrefix("HTTP/1.1 429 Too Many Requests\r\n"))
            #expect(Self.header("content-type", in: refused) == "application/json")
            #expect(Self.header("connection", in: refused) == "close")
            #expect(refused.hasSuffix(#"{"detail":"slow down"}"#))
            #expect(!connection.isOpen)
            let scrape = String(decoding: connection.metrics.render(), as: UTF8.self)
            #expect(scrape.contains(#"herald_handshakes_refused_total{status="429"} 1"#))
        }
        try await Self.with { connection in
            // A key missing: 400, before the endpoint is asked.
            let keyless = try connection.send(
                Self.handshake.replacingOccurrences(of: "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", with: ""))
            #expect(keyless.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
            #expect(connection.calls.withLockedValue { $0 } == 0)
        }
        try await Self.with { connection in
            // Not a handshake at all: Vapor's route at the same path answers, and the connection stays.
            let plain = try connection.send("GET /api/v1/ws HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(plain.hasSuffix("vapor"))
            let slashed = try connection.send("GET /api/v1/ws/ HTTP/1.1\r\nHost: h\r\n\r\n")
            #expect(slashed.hasSuffix("vapor"))
            #expect(connection.isOpen)
        }
    }

    @Test("malformed HTTP is answered 400 and the connection closed")
    func malformedRequest() async throws {
        try await Self.with { connection in
            let response = try connection.send("GET /hello HTTP/1.1\r\nHost h\r\n\r\n")
            #expect(response.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
            #expect(connection.error != nil)
            #expect(!connection.isOpen)
            #expect(connection.calls.withLockedValue { $0 } == 0)
        }
    }

    @Test("the Date header is IMF-fixdate, as Vapor formats it")
    func httpDate() {
        for seconds in [0, 784_111_777, 951_782_400, 1_767_225_599, 1_798_761_600, 4_102_444_800] {
            let expected = Date(timeIntervalSince1970: TimeInterval(seconds)).rfc1123
            #expect(HTTPDate.format(time_t(seconds)) == expected)
        }
    }
}
