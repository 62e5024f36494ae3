import Foundation
import HeraldServer
import NIOHTTP1
import Testing

/// The common publish is answered on the event loop (``PublishRoute``) and every other one by Vapor's route: a
/// principal's first request, whose locations are recorded, is always Vapor's. A client must not be able to tell
/// the two apart.
@Suite("Publish route")
struct PublishRouteTests {
    /// What of an answer a client sees, without what differs between any two answers (the date, the request id,
    /// the new ids).
    struct Seen: Equatable {
        let status: HTTPResponseStatus
        let contentType: String?
        let authenticate: String?
        let retryAfter: String?
        let body: String

        init(_ response: TestResponse) {
            status = response.status
            contentType = response.headers.first(name: "content-type")
            authenticate = response.headers.first(name: "www-authenticate")
            retryAfter = response.headers.first(name: "retry-after")
            body = response.body.replacing(/[0-9]+/, with: "N")
        }
    }

    @Test("a publish by a recorded principal is answered as the first one, by Vapor's route, is: each case alike")
    func answeredAlike() async throws {
        let capture = LogCapture()
        try await TestServer.with(logger: capture.logger) { server in
            let cases: [(String, String)] = [
                ("stored", #"{"user_id":"u1","type":"system","title":"t","message":"m"}"#),
                ("to a location", #"{"location_id":"L","type":"system","title":"t","message":"m"}"#),
                ("not JSON", #"{"user_id":"#),
                ("invalid fields", #"{"user_id":"u1","broadcast":true,"type":"nope","title":""}"#),
                ("no body", ""),
            ]
            for (index, (name, body)) in cases.enumerated() {
                // A principal of its own per case: its first publish is Vapor's, its second the event loop's.
                let token = try await server.token("publisher-\(index)", role: .admin)
                var seen: [Seen] = []
                for attempt in ["vapor", "direct"] {
                    let id = "\(name.replacing(" ", with: "-"))-\(attempt)"
                    let response = try await server.request(
                        .POST, "/api/v1/notifications", token: token, json: body, headers: [("X-Request-Id", id)])
                    #expect(response.headers.first(name: "X-Request-Id") == id)
                    seen.append(Seen(response))
                }
                #expect(seen[0] == seen[1], "\(name)")
            }
            // Refusals by the token alone: a plain user, a staff member elsewhere, no token, a bad one.
            let user = try await server.token("reader", locations: ["L"])
            let staff = try await server.token("staff", locations: ["L"], role: .staff)
            for (name, token, body) in [
                ("a user", user, #"{"location_id":"L","type":"system","title":"t","message":"m"}"#),
                ("staff elsewhere", staff, #"{"location_id":"M","type":"system","title":"t","message":"m"}"#),
                ("staff broadcasting", staff, #"{"broadcast":true,"type":"system","title":"t","message":"m"}"#),
            ] {
                let first = try await server.request(.POST, "/api/v1/notifications", token: token, json: body)
                let second = try await server.request(.POST, "/api/v1/notifications", token: token, json: body)
                #expect(first.status == .forbidden, "\(name)")
                #expect(Seen(first) == Seen(second), "\(name)")
            }
            let body = #"{"location_id":"L","type":"system","title":"t","message":"m"}"#
            let missing = try await server.request(.POST, "/api/v1/notifications", json: body)
            let bad = try await server.request(.POST, "/api/v1/notifications", token: "a.b.c", json: body)
            let listed = try await server.request(.GET, "/api/v1/notifications", token: "a.b.c")
            #expect(missing.status == .unauthorized && missing.detail == "Not authenticated")
            #expect(Seen(bad) == Seen(listed), "a bad token on a publish is refused as on every route")
        }
        // Each publish has its access line, whichever answered it.
        let lines = capture.all.compactMap { JSONValue.parse(Array($0.utf8)) }
            .filter { $0["msg"] == .string("request") && $0["path"] == .string("/api/v1/notifications") }
        for attempt in ["vapor", "direct"] {
            #expect(
                lines.contains {
                    $0["request-id"] == .string("stored-\(attempt)") && $0["status"] == .string("201")
                        && $0["method"] == .string("POST")
                })
            #expect(
                lines.contains { $0["request-id"] == .string("not-JSON-\(attempt)") && $0["status"] == .string("422") })
        }
    }
}
