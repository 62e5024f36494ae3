import Foundation
import HeraldServer
import Testing

/// `/openapi.json` must describe what the router serves: no undocumented route, no documented route that is
/// missing, and for each operation exactly the statuses its route declares (`Route.answering`), the WebSocket
/// handshake's included, which a test provokes one by one. (schemathesis, in `.ci/run`, checks the REST answers
/// against the schemas.)
@Suite("OpenAPI document")
struct OpenAPITests {
    @Test("expires_at takes RFC 3339 with offsets and fractions, and nothing else")
    func expiresAtForms() async throws {
        try await TestServer.with { server in
            for (given, stored) in [
                ("2030-01-02T03:04:05.5+02:00", "2030-01-02T01:04:05.500Z"),
                ("2028-02-29t00:00:00z", "2028-02-29T00:00:00.000Z"),
                ("1969-12-31T23:59:59.250Z", "1970-01-01T00:00:00.000Z"),
            ] {
                let ids = try await server.publish(
                    #"{"user_id":"u","type":"system","title":"t","message":"m","expires_at":"\#(given)"}"#)
                let rows = try await server.request(.GET, "/api/v1/notifications", token: try await server.token("u"))
                let item = rows.items.first { $0["id"]?.int64Value == ids.first }
                if given.hasPrefix("1969") {
                    #expect(item == nil, "an expiry in the past is stored but never listed")
                } else {
                    #expect(item?["expires_at"]?.stringValue == stored, "\(given)")
                }
            }
            for bad in [
                "2030-01-02 03:04:05Z", "2030-13-01T00:00:00Z", "2030-02-29T00:00:00Z", "2030-01-02T03:04:05",
                "tomorrow", "",
            ] {
                let response = try await server.request(
                    .POST, "/api/v1/notifications", token: try await server.adminToken(),
                    json: #"{"user_id":"u","type":"system","title":"t","message":"m","expires_at":"\#(bad)"}"#)
                #expect(response.status == .unprocessableEntity, "\(bad)")
                #expect(response.issues == ["body.expires_at:datetime_parsing"], "\(bad)")
            }
        }
    }

    @Test("the document is OpenAPI 3.1 and lists exactly the server's routes")
    func documentMatchesRoutes() async throws {
        try await TestServer.with(["NOTIFICATION_TYPES": "shift_swap"]) { server in
            let response = try await server.request(.GET, "/openapi.json")
            let document = try #require(response.json)
            #expect(document["openapi"]?.stringValue?.hasPrefix("3.1") == true)
            guard case .object(let paths)? = document["paths"] else { throw TestSetupError("no paths") }
            var documented: [String: Set<Int>] = [:]
            for (path, item) in paths {
                guard case .object(let operations) = item else { continue }
                for (method, operation) in operations {
                    let statuses = operation["responses"]?.objectValue?.keys.compactMap { Int($0) } ?? []
                    documented["\(method.uppercased()) \(path)"] = Set(statuses)
                }
            }
            let routed = server.app.routeDescriptions
            #expect(Set(documented.keys).subtracting(routed.keys).sorted() == [], "documented but not routed")
            #expect(Set(routed.keys).subtracting(documented.keys).sorted() == [], "routed but not documented")
            for (operation, statuses) in routed.sorted(by: { $0.key < $1.key }) {
                #expect(!statuses.isEmpty, "\(operation) declares no statuses")
                #expect(documented[operation] == statuses, "\(operation): documented \(documented[operation] ?? [])")
            }

            // The publish schema lists this deployment's notification types, extras included.
            #expect(
                document["components"]?["schemas"]?["PublishRequest"]?["properties"]?["type"]?["$ref"]
                    == .string("#/components/schemas/NotificationType"))
            let enumerated = document["components"]?["schemas"]?["NotificationType"]?["enum"]
            guard case .array(let types)? = enumerated else { throw TestSetupError("no type enum") }
            #expect(types.contains(.string("shift_swap")) && types.contains(.string("appointment")))
            #expect(document["info"]?["version"]?.stringValue?.isEmpty == false)
            // The server parses exactly what the document's pattern admits.
            let expiry = document["components"]?["schemas"]?["PublishRequest"]?["properties"]?["expires_at"]
            #expect(expiry?["pattern"]?.stringValue == Timestamp.pattern)
        }
    }

    @Test("the WebSocket handshake answers each status the document lists for it, and no other")
    func handshakeStatuses() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        let server = try await TestServer.start(database: database, settings: ["WS_CONNECT_RATE": "1"], instance: "hs")
        let document = try #require(try await server.request(.GET, "/openapi.json").json)
        let listed = Set(
            document["paths"]?["/api/v1/ws"]?["get"]?["responses"]?.objectValue?.keys.compactMap { Int($0) } ?? [])
        var seen = Set<Int>()
        // 101: a real upgrade (a token's problems come after it, as close codes). This socket never reads, so a
        // drain below waits for it.
        let token = try await server.token("hs")
        seen.insert(try await RawSocket.handshakeStatus(port: server.app.port, query: "token=\(token)"))
        let held = try await RawSocket.connect(port: server.app.port, token: token, reading: false)
        // 400: not an upgrade.
        seen.insert(Int(try await server.request(.GET, "/api/v1/ws?token=x").status.code))
        // 429: past WS_CONNECT_RATE (1/s, 5 in a burst) from one address. Twelve at once, not one after another:
        // on a loaded machine handshakes in turn can be slow enough for the bucket to refill between them.
        let port = server.app.port
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<12 { group.addTask { try await RawSocket.handshakeStatus(port: port, query: "token=x") } }
            for try await status in group { seen.insert(status) }
        }
        // 503: draining, while the held socket keeps the drain waiting.
        let drain = Task { await server.app.shutdown(timeout: .seconds(3)) }
        try await Task.sleep(for: .milliseconds(300))
        seen.insert(try await RawSocket.handshakeStatus(port: server.app.port, query: "token=x"))
        await drain.value
        held.close()
        #expect(seen == listed, "answered \(seen.sorted()), documented \(listed.sorted())")
    }
}
