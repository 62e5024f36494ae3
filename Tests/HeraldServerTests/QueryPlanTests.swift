import HeraldServer
import PostgresNIO
import Testing

/// With a million notifications for one user (1% unread) and a million for 5,000 others, that user's page, unread
/// count and read-all stay on indexes, and the kept unread count matches the rows. The plans are printed so the
/// README can show them.
@Suite("Query plans", .serialized)
struct QueryPlanTests {
    @Test("list, unread count and read-all are index-driven at 1M + 1M rows")
    func indexDrivenPlans() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        try await TestCluster.withClient(database: database) { client in
            try await client.query(
                """
                INSERT INTO notifications (type, title, message, user_id, publisher)
                SELECT 'system', 't', 'm', CASE WHEN g % 2 = 0 THEN 'heavy' ELSE 'other-' || (g % 5000) END, 'seed'
                FROM generate_series(1, 2000000) g
                """)
            try await client.query(
                """
                INSERT INTO notifications (type, title, message, location_id, publisher)
                SELECT 'booking', 't', 'm', 'loc-' || (g % 50), 'seed' FROM generate_series(1, 20000) g
                """)
            // A lived-in inbox: the heavy user has read all but 1% of a million notifications.
            try await client.query("UPDATE notifications SET read_at = now() WHERE user_id = 'heavy' AND id % 200 <> 0")
            try await client.query("VACUUM ANALYZE notifications")
            try await client.query("ANALYZE notification_receipts")

            let user = "heavy"
            let audiences = ["u:heavy", "l:loc-1", "l:loc-2", "*"]
            let list = try await Self.plan(
                client,
                """
                EXPLAIN SELECT page.id FROM unnest(\(audiences)::text[]) AS a(audience)
                CROSS JOIN LATERAL (
                    SELECT n.id FROM notifications n
                    LEFT JOIN notification_receipts r ON r.user_id = \(user) AND r.notification_id = n.id
                    WHERE n.audience = a.audience AND n.id < \(Int64.max)
                      AND (n.expires_at IS NULL OR n.expires_at > now()) AND r.deleted_at IS NULL
                    ORDER BY n.id DESC LIMIT 50) page
                ORDER BY page.id DESC LIMIT 50
                """)
            // The one part of herald_unread_count that reads notification rows: expired, unread, not yet swept.
            let count = try await Self.plan(
                client,
                """
                EXPLAIN SELECT count(*) FROM notifications n
                WHERE n.audience = ANY(\(audiences)) AND n.read_at IS NULL AND n.expires_at <= now()
                  AND NOT EXISTS (SELECT 1 FROM notification_receipts r WHERE r.user_id = \(user)
                      AND r.notification_id = n.id AND (r.read_at IS NOT NULL OR r.deleted_at IS NOT NULL))
                """)
            // The counters the triggers kept through two million inserts and a bulk update match the rows.
            var counted = 0
            for try await value in try await client.query(
                """
                SELECT count(*) FROM notifications
                WHERE audience = ANY(\(audiences)) AND read_at IS NULL
                """
            ).decode(Int.self) { counted = value }
            var kept = 0
            for try await value in try await client.query(
                "SELECT herald_unread_count(\(user), \(audiences))"
            ).decode(Int.self) { kept = value }
            #expect(kept == counted && counted == 10_000 + 400 * 2)
            var readAllBatch = InboxStore.personalReadAllBatch(audience: "u:heavy", type: nil, before: Int64.max)
            readAllBatch.sql = "EXPLAIN " + readAllBatch.sql
            let readAll = try await Self.plan(client, readAllBatch)
            for (name, plan) in [("list", list), ("unread count", count), ("read-all", readAll)] {
                print("--- \(name) plan ---\n\(plan)")
                #expect(!plan.contains("Seq Scan on notifications"), "\(name) scans the table:\n\(plan)")
                #expect(plan.contains("Index"), "\(name) uses no index:\n\(plan)")
            }
            #expect(list.contains("notifications_audience_id"))
            #expect(count.contains("notifications_unread_expiring"))
            #expect(readAll.contains("notifications_unread"))
        }
    }

    static func plan(_ client: PostgresClient, _ query: PostgresQuery) async throws -> String {
        var lines: [String] = []
        for try await line in try await client.query(query).decode(String.self) { lines.append(line) }
        return lines.joined(separator: "\n")
    }
}
