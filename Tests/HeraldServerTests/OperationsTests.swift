import Foundation
import HeraldServer
import NIOHTTP1
import Testing

/// What operators see: `/metrics`, the access log (request ids, no tokens), and the browser-facing files.
@Suite("Operations")
struct OperationsTests {
    @Test("/metrics is Prometheus text whose counters follow socket and publish traffic")
    func metricsFollowTraffic() async throws {
        try await TestServer.with { server in
            let first = try await server.request(.GET, "/metrics")
            #expect(first.status == .ok)
            #expect(first.headers.first(name: "content-type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let before = try PrometheusText(first.body)
            #expect(before.types["herald_connections"] == "gauge")
            #expect(before.types["herald_publish_to_send_seconds"] == "histogram")
            #expect(before.types["herald_closes_total"] == "counter")

            let socket = try await TestSocket.open(server, token: try await server.token("m1", locations: ["L"]))
            try await socket.send(#"{"type":"ping"}"#)
            _ = try await socket.next("pong")
            try await socket.send("not json")
            _ = try await socket.next("error")
            let during = try PrometheusText(try await server.request(.GET, "/api/v1/metrics").body)
            #expect(during["herald_connections"] == 1)

            for index in 0..<3 {
                _ = try await server.publish(
                    #"{"location_id":"L","type":"system","title":"m\#(index)","message":"x"}"#)
            }
            for _ in 0..<3 { _ = try await socket.next("notification") }
            await socket.close()
            _ = try? await socket.closeCode()
            let unauthorized = try await TestSocket.connect(port: server.app.port, token: "not-a-token")
            #expect(try await unauthorized.closeCode() == 4401)

            var after = try PrometheusText(try await server.request(.GET, "/metrics").body)
            for _ in 0..<100 where after["herald_connections"] != 0 {
                try await Task.sleep(for: .milliseconds(20))
                after = try PrometheusText(try await server.request(.GET, "/metrics").body)
            }
            func delta(_ series: String) -> Double { after[series] - before[series] }
            #expect(after["herald_connections"] == 0)
            #expect(delta(#"herald_connects_total{result="accepted"}"#) == 1)
            #expect(delta(#"herald_connects_total{result="unauthorized"}"#) == 1)
            #expect(delta(#"herald_closes_total{reason="client"}"#) == 1)
            #expect(delta(#"herald_messages_in_total{type="ping"}"#) == 1)
            #expect(delta(#"herald_messages_in_total{type="invalid"}"#) == 1)
            #expect(delta(#"herald_messages_out_total{type="notification"}"#) == 3)
            #expect(delta(#"herald_messages_out_total{type="connection"}"#) == 1)
            #expect(delta(#"herald_messages_out_total{type="pong"}"#) == 1)
            #expect(delta("herald_notifications_published_total") == 3)
            #expect(delta("herald_publish_to_send_seconds_count") == 3)
            #expect(
                after[#"herald_publish_to_send_seconds_bucket{le="+Inf"}"#]
                    == after["herald_publish_to_send_seconds_count"])
            #expect(after[#"herald_database_errors_total{component="rest"}"#] == 0)
        }
    }

    @Test("no token reaches the log, from headers, query strings, frames or errors; lines carry a request id")
    func logsRedactTokens() async throws {
        let capture = LogCapture()
        let tokens = try await TestServer.with(logger: capture.logger) { server in
            let good = try await server.token("log-user", locations: ["L"])
            let expired = try await server.token("log-user", ttl: -60)
            let foreign = try await TokenMinter(secret: "another-secret-0123456789abcdef-0123")
                .mint(sub: "x", locations: [], role: .user, scope: nil, ttl: 60)
            for token in [good, expired, foreign] {
                try await server.request(.GET, "/api/v1/notifications", token: token)
                try await server.request(.GET, "/api/v1/notifications?token=\(token)&access_token=\(token)")
                try await server.request(
                    .GET, "/api/v1/notifications/unread-count", headers: [("Authorization", "bearer \(token)")])
                let socket = try await TestSocket.connect(port: server.app.port, token: token, query: "&since=abc")
                _ = try? await socket.closeCode()
            }
            let socket = try await TestSocket.open(server, token: good)
            try await socket.send(#"{"type":"auth","token":"\#(expired)"}"#)
            _ = try await socket.next("error")
            try await socket.send(#"{"type":"auth","token":"\#(good)"}"#)
            _ = try await socket.next("auth_ok")
            await socket.close()
            try await server.request(.GET, "/api/v1/ws/status", headers: [("X-Request-Id", "trace-42.a:b")])
            return [good, expired, foreign]
        }
        let lines = capture.all
        #expect(lines.count > 20)
        for line in lines {
            for token in tokens {
                let signature = String(token.split(separator: ".").last ?? "")
                #expect(!line.contains(token) && !line.contains(signature), "token in log line: \(line)")
            }
            #expect(JSONValue.parse(Array(line.utf8))?["msg"] != nil, "not a JSON log line: \(line)")
        }
        let requests = lines.compactMap { JSONValue.parse(Array($0.utf8)) }.filter { $0["msg"] == .string("request") }
        #expect(requests.count >= 13)
        #expect(requests.allSatisfy { ($0["request-id"]?.stringValue?.count ?? 0) > 0 })
        #expect(requests.contains { $0["request-id"] == .string("trace-42.a:b") && $0["status"] == .string("200") })
        #expect(requests.contains { $0["query"]?.stringValue?.contains("token=[REDACTED]") == true })
    }

    @Test("the response carries the request id, and X-Forwarded-For is believed only from a trusted proxy")
    func requestIDAndForwardedFor() async throws {
        let capture = LogCapture()
        try await TestServer.with(["TRUSTED_PROXIES": "127.0.0.1"], logger: capture.logger) { server in
            let echoed = try await server.request(.GET, "/health/live", headers: [("X-Request-Id", "abc-123")])
            #expect(echoed.headers.first(name: "X-Request-Id") == "abc-123")
            let generated = try await server.request(.GET, "/health/live", headers: [("X-Request-Id", "bad id!")])
            #expect(generated.headers.first(name: "X-Request-Id").map { $0 != "bad id!" && !$0.isEmpty } == true)
            try await server.request(
                .GET, "/api/v1/ws/status", headers: [("X-Forwarded-For", "203.0.113.9, 127.0.0.1")])
        }
        let untrusted = LogCapture()
        try await TestServer.with(logger: untrusted.logger) { server in
            try await server.request(.GET, "/api/v1/ws/status", headers: [("X-Forwarded-For", "203.0.113.9")])
        }
        func clients(_ capture: LogCapture) -> [String] {
            capture.all.compactMap { JSONValue.parse(Array($0.utf8)) }
                .filter { $0["path"] == .string("/api/v1/ws/status") }.compactMap { $0["client"]?.stringValue }
        }
        #expect(clients(capture) == ["203.0.113.9"])
        #expect(clients(untrusted) == ["127.0.0.1"])
    }

    @Test("herald.js, the demo and the docs are served with their types, ETags and a CSP")
    func webAssets() async throws {
        try await TestServer.with { server in
            for (path, type) in [
                ("/herald.js", "text/javascript"), ("/demo.js", "text/javascript"), ("/docs.js", "text/javascript"),
                ("/demo", "text/html"), ("/docs", "text/html"), ("/openapi.json", "application/json"),
            ] {
                let response = try await server.request(.GET, path)
                #expect(response.status == .ok, "\(path)")
                #expect(response.headers.first(name: "content-type")?.hasPrefix(type) == true, "\(path)")
                let etag = try #require(response.headers.first(name: "etag"))
                let again = try await server.request(.GET, path, headers: [("If-None-Match", etag)])
                #expect(again.status == .notModified && again.body.isEmpty, "\(path)")
                if type == "text/html" {
                    #expect(
                        response.headers.first(name: "content-security-policy")?.contains("script-src 'self'") == true)
                }
            }
            let client = try await server.request(.GET, "/herald.js").body
            #expect(client.contains("export class HeraldClient"))
            let demo = try await server.request(.GET, "/demo").body
            #expect(demo.contains(#"<script type="module" src="/demo.js"></script>"#))
        }
    }
}
