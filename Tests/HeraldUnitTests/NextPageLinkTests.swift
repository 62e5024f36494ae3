import Testing
import Vapor

@testable import HeraldServer

/// The `Link: <…>; rel="next"` of a full page: the same query with `before` set to the page's last id and `offset`
/// dropped, every other parameter as the client sent it.
@Suite("Next page link")
struct NextPageLinkTests {
    static func link(_ target: String, before: Int64) async throws -> String {
        let app = try await Application.make(.testing)
        let request = Request(application: app, method: .GET, url: URI(path: target), on: app.eventLoopGroup.any())
        let link = InboxController.nextPage(request, before: before)
        try await app.asyncShutdown()
        return link
    }

    @Test("before and offset are replaced, however they are spelt; the rest is kept verbatim and in order")
    func keepsTheRest() async throws {
        #expect(
            try await Self.link(
                "/api/v1/notifications?limit=1&offset=5&type=a%20b&before=9&%62efore=3&location_id=x+y", before: 42)
                == "/api/v1/notifications?limit=1&type=a%20b&location_id=x+y&before=42")
    }

    @Test("a byte a URI may not hold is percent-encoded, so the link cannot end early")
    func encodesWhatMayNotStand() async throws {
        #expect(
            try await Self.link(#"/api/v1/notifications?type=a>;rel="x"&limit=1"#, before: 5)
                == "/api/v1/notifications?type=a%3E;rel=%22x%22&limit=1&before=5")
    }

    @Test("a request without a query gets one")
    func noQuery() async throws {
        #expect(
            try await Self.link("/api/v1/notifications/unread", before: 7) == "/api/v1/notifications/unread?before=7")
    }
}
