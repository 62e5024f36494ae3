import Foundation
import HeraldServer
import Testing

/// `/openapi.json` must describe what the router serves: no undocumented route, no documented route that is
/// missing. (schemathesis, in `.ci/run`, checks the answers against the schemas.)
@Suite("OpenAPI document")
struct OpenAPITests {
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
        }
    }
}
