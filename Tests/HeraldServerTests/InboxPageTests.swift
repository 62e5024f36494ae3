import Foundation
import Logging
import PostgresNIO
import Testing

@testable import HeraldServer

/// A REST page writes its JSON straight from the rows' bytes (``InboxPage``), while a socket's replay decodes the
/// same columns into ``InboxItem``s and writes those. A client sees one notification through both, so for every
/// shape of row (text that needs escaping, text beyond ASCII, every nullable column empty or set, read state from
/// the row, a receipt or a read-all, timestamps before 1970) the two must write the same bytes.
@Suite("Inbox pages")
struct InboxPageTests {
    static let logger = Logger(label: "inbox-page-test")

    @Test("a page's JSON is byte for byte the items' JSON, for pages and unread pages")
    func pageMatchesItems() async throws {
        try await TestServer.with { server in
            let client = server.app.postgres
            let store = InboxStore(client: client, logger: Self.logger)
            let principal = Principal(
                userID: "page-user", locations: ["shop"], role: .user, scopes: [], expiresAt: 4_000_000_000)
            let title = "quote \" backslash \\ newline \n tab \t bell \u{07} del \u{7F}"
            let message = "🔔 通知 café, ﬁ and a lone ascii line"
            let data = #"{"k": "v\"", "n": [1, 2.5, null, true], "ü": "ß\u0001", "nested": {"a": []}}"#
            try await client.run(
                """
                INSERT INTO notifications
                    (type, priority, title, message, data, action_url, user_id, collapse_key, publisher, created_at,
                     expires_at, read_at, delivered_at)
                VALUES
                    ('system', 'urgent', \(title), \(message), \(data)::jsonb, '/a?b="c"', 'page-user', 'k-1', 'test',
                     '1969-12-31 23:59:59.9995+00', '2999-01-01 00:00:00+00', '2026-01-02 03:04:05.678912+00',
                     '2026-01-02 03:04:05+00')
                """, logger: Self.logger)
            for index in 1...6 {
                try await client.run(
                    """
                    INSERT INTO notifications (type, title, message, location_id, broadcast, publisher)
                    VALUES ('info', \("location \(index)"), '', 'shop', false, 'test')
                    """, logger: Self.logger)
            }
            try await client.run(
                "INSERT INTO notifications (type, title, message, broadcast, publisher) VALUES ('info', 'all', 'x', true, 'test')",
                logger: Self.logger)
            let ids = try await client.rows(
                "SELECT id FROM notifications ORDER BY id", as: Int64.self, logger: Self.logger)
            // A receipt reads the second location row, a read-all covers the first three, the third is marked
            // unread again after it, and a receipt delivers the fifth.
            #expect(try await store.apply(.read, id: ids[2], for: principal))
            _ = try await store.markAllRead(principal, type: nil, locationID: "shop", before: ids[4])
            #expect(try await store.apply(.unread, id: ids[3], for: principal))
            try await store.markDelivered(principal, ids: [ids[5]])

            let items = try await store.replay(principal, after: 0, limit: 100)
            #expect(items.count == 8)
            #expect(items.contains { $0.readAt != nil } && items.contains { $0.readAt == nil })
            for unreadOnly in [false, true] {
                var filter = InboxFilter()
                filter.unreadOnly = unreadOnly
                let page = try await store.list(principal, filter)
                let expected = items.reversed().filter { !unreadOnly || $0.readAt == nil }
                var writer = JSONWriter()
                writer.beginArray()
                for item in expected { item.write(to: &writer) }
                writer.endArray()
                #expect(page.ids == expected.map(\.id))
                #expect(String(buffer: page.json) == writer.string)
                #expect(try JSONSerialization.jsonObject(with: Data(buffer: page.json)) is [Any])
            }
        }
    }
}
