import Foundation
import HeraldServer
import Testing

/// `/openapi.json` must describe what the router serves: no undocumented route, no documented route that is
/// missing. (schemathesis, in `.ci/run`, checks the answers against the schemas.)
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
            var documented = Set<String>()
            for (path, item) in paths {
                guard case .object(let operations) = item else { continue }
                for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
            }
            let routed = Set(server.app.routeDescriptions)
            #expect(documented.subtracting(routed).sorted() == [], "documented but not routed")
            #expect(routed.subtracting(documented).sorted() == [], "routed but not documented")

            // The publish schema lists this deployment's notification types, extras included.
            let publish = document["components"]?["schemas"]?["PublishRequest"]?["properties"]?["type"]?["enum"]
            guard case .array(let types)? = publish else { throw TestSetupError("no type enum") }
            #expect(types.contains(.string("shift_swap")) && types.contains(.string("appointment")))
            #expect(document["info"]?["version"]?.stringValue?.isEmpty == false)
            // The server parses exactly what the document's pattern admits.
            let expiry = document["components"]?["schemas"]?["PublishRequest"]?["properties"]?["expires_at"]
            #expect(expiry?["pattern"]?.stringValue == Timestamp.pattern)
        }
    }
}
