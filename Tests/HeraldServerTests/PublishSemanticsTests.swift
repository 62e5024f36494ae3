import Foundation
import HeraldServer
import PostgresNIO
import Testing

/// Idempotency, collapse, expiry, and per-recipient state of shared notifications.
@Suite("Publish semantics")
struct PublishSemanticsTests {
    @Test("the same idempotency key returns the first result and stores nothing new")
    func idempotentPublish() async throws {
        try await TestServer.with { server in
            let admin = try await server.adminToken()
            let body = #"{"user_id":"ida","type":"system","title":"t","message":"m","idempotency_key":"k-1"}"#
            let first = try await server.request(.POST, "/api/v1/notifications", token: admin, json: body)
            let second = try await server.request(.POST, "/api/v1/notifications", token: admin, json: body)
            #expect(first.status == .created && second.status == .created)
            #expect(first.json?["ids"] == second.json?["ids"])
            #expect(second.headers.first(name: "Idempotent-Replayed") == "true")
            // The header form is the same key.
            let header = try await server.request(
                .POST, "/api/v1/notifications", token: admin,
                json: #"{"user_id":"ida","type":"system","title":"t","message":"m"}"#,
                headers: [("Idempotency-Key", "k-1")])
            #expect(header.json?["ids"] == first.json?["ids"])
            // Concurrent duplicates also store one notification.
            let racing = #"{"user_id":"ida","type":"system","title":"t","message":"m","idempotency_key":"k-2"}"#
            let results = try await withThrowingTaskGroup(of: JSONValue?.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await server.request(.POST, "/api/v1/notifications", token: admin, json: racing).json?[
                            "ids"]
                    }
                }
                return try await group.reduce(into: [JSONValue?]()) { $0.append($1) }
            }
            #expect(Set(results.map { $0?.jsonText ?? "nil" }).count == 1)
            let ida = try await server.token("ida")
            #expect(try await server.request(.GET, "/api/v1/notifications", token: ida).items.count == 2)
            // Keys are per publisher: another publisher's k-1 is a new notification.
            let other = try await server.token("svc", scope: "notifications:publish")
            let fresh = try await server.request(.POST, "/api/v1/notifications", token: other, json: body)
            #expect(fresh.status == .created && fresh.json?["ids"] != first.json?["ids"])
        }
    }

    @Test("publishes that arrive together commit together: each gets its own id, row and delivery, in id order")
    func groupCommit() async throws {
        try await TestServer.with { server in
            let member = try await server.token("gc", locations: ["GC"])
            let socket = try await TestSocket.open(server, token: member)
            let targets = [#""user_id":"gc""#, #""location_id":"GC""#, #""broadcast":true"#, #""user_id":"other""#]
            let published = try await withThrowingTaskGroup(of: (Int, [Int64]).self) { group in
                for index in 0..<80 {
                    let body = #"{\#(targets[index % 4]),"type":"system","title":"t\#(index)","message":"m"}"#
                    group.addTask { (index, try await server.publish(body)) }
                }
                return try await group.reduce(into: [Int: [Int64]]()) { $0[$1.0] = $1.1 }
            }
            #expect(published.values.allSatisfy { $0.count == 1 })
            #expect(Set(published.values.flatMap { $0 }).count == 80)
            let mine = published.filter { $0.key % 4 != 3 }
            // Every id holds its own request's row...
            let listed = try await server.request(.GET, "/api/v1/notifications?limit=100", token: member).items
            #expect(listed.count == mine.count)
            for item in listed {
                let index = item["title"]?.stringValue.flatMap { Int($0.dropFirst()) } ?? -1
                #expect(mine[index] == [item["id"]?.int64Value ?? 0], "title t\(index)")
            }
            // ...and reaches the socket once, in id order, with that row.
            var received: [Int64] = []
            for _ in 0..<mine.count {
                let frame = try await socket.next("notification")
                let id = frame["id"]?.int64Value ?? 0
                let index = frame["data"]?["title"]?.stringValue.flatMap { Int($0.dropFirst()) } ?? -1
                #expect(mine[index] == [id])
                received.append(id)
            }
            #expect(received == mine.values.flatMap { $0 }.sorted())
        }
    }

    @Test("a publish PostgreSQL refuses fails alone: the publishes committed in the same batch still succeed")
    func refusedPublishFailsAlone() async throws {
        try await TestServer.with(["REQUEST_TIMEOUT": "4"]) { server in
            // A row the database refuses though Herald accepted it (as a broken schema or a bug would).
            try await server.sql(
                """
                CREATE FUNCTION refuse_title() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF NEW.title = 'refused' THEN RAISE EXCEPTION 'refused row' USING ERRCODE = '22023'; END IF;
                    RETURN NEW;
                END $$
                """)
            try await server.sql(
                "CREATE TRIGGER refuse_title BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION refuse_title()"
            )
            let admin = try await server.adminToken()
            let holder = try await PostgresConnection.connect(
                configuration: try DatabaseURL.connectionConfiguration(try TestCluster.url(database: server.database)),
                id: 1, logger: TestCluster.logger)
            defer { Task { try? await holder.close() } }
            // While the publish lock is held, the first publish waits inside its statement, and the ones that
            // arrive meanwhile queue up for the next batch together.
            _ = try await holder.query(
                "SELECT pg_advisory_lock(\(Int64(0x4845_5241_4C44_5055)))", logger: TestCluster.logger
            ).collect()
            let titles = ["first", "a", "b", "refused", "c", "d"]
            let statuses = try await withThrowingTaskGroup(of: (String, Int).self) { group in
                for (index, title) in titles.enumerated() {
                    group.addTask {
                        if index > 0 { try await Task.sleep(for: .milliseconds(300)) }
                        let response = try await server.request(
                            .POST, "/api/v1/notifications", token: admin,
                            json: #"{"user_id":"batch","type":"system","title":"\#(title)","message":"m"}"#)
                        return (title, Int(response.status.code))
                    }
                }
                try await Task.sleep(for: .milliseconds(700))
                _ = try await holder.query("SELECT pg_advisory_unlock_all()", logger: TestCluster.logger).collect()
                return try await group.reduce(into: [String: Int]()) { $0[$1.0] = $1.1 }
            }
            #expect(statuses.filter { $0.key != "refused" }.values.allSatisfy { $0 == 201 }, "\(statuses)")
            #expect((statuses["refused"] ?? 0) >= 500, "never a 2xx for a row that was not stored")
            let listed = try await server.request(.GET, "/api/v1/notifications", token: try await server.token("batch"))
            #expect(Set(listed.items.compactMap { $0["title"]?.stringValue }) == ["first", "a", "b", "c", "d"])
        }
    }

    @Test("a newer notification with the same collapse key replaces the older one")
    func collapseReplacement() async throws {
        try await TestServer.with { server in
            let old = try await server.publish(
                #"{"user_id":"co","type":"booking","title":"Starts in 10","message":"m","collapse_key":"appt-7"}"#)
            let other = try await server.publish(
                #"{"user_id":"co","type":"booking","title":"Other","message":"m","collapse_key":"appt-8"}"#)
            let new = try await server.publish(
                #"{"user_id":"co","type":"booking","title":"Starts in 5","message":"m","collapse_key":"appt-7"}"#)
            let co = try await server.token("co")
            let listed = try await server.request(.GET, "/api/v1/notifications", token: co)
            #expect(listed.ids == new + other)
            #expect(listed.items.first?["title"] == .string("Starts in 5"))
            #expect(
                try await server.request(.PUT, "/api/v1/notifications/\(old[0])/read", token: co).status == .notFound)
            // Another user's notification with the same key is not touched.
            _ = try await server.publish(
                #"{"user_id":"co2","type":"booking","title":"x","message":"m","collapse_key":"appt-7"}"#)
            #expect(try await server.request(.GET, "/api/v1/notifications", token: co).ids == new + other)
            // Nor is another publisher's: staff at a location cannot remove an admin's notification there by
            // guessing its key.
            let adminNotice = try await server.publish(
                #"{"location_id":"CL","type":"system","title":"from admin","message":"m","collapse_key":"notice"}"#)
            let staff = try await server.token("cl-staff", locations: ["CL"], role: .staff)
            let staffNotice = try await server.publish(
                #"{"location_id":"CL","type":"system","title":"from staff","message":"m","collapse_key":"notice"}"#,
                token: staff)
            let member = try await server.token("cl-member", locations: ["CL"])
            #expect(
                try await server.request(.GET, "/api/v1/notifications", token: member).ids == staffNotice + adminNotice)
        }
    }

    @Test("idempotency keys are kept for IDEMPOTENCY_WINDOW, then swept; a retry after that publishes anew")
    func idempotencyWindow() async throws {
        try await TestServer.with(["IDEMPOTENCY_WINDOW": "60"]) { server in
            let admin = try await server.adminToken()
            let body = #"{"user_id":"win","type":"system","title":"t","message":"m","idempotency_key":"old-key"}"#
            let first = try await server.request(.POST, "/api/v1/notifications", token: admin, json: body)
            try await server.sql("UPDATE publish_requests SET created_at = now() - interval '2 minutes'")
            var remaining = 1
            for _ in 0..<100 where remaining > 0 {
                try await Task.sleep(for: .milliseconds(100))
                let rows = try await server.app.postgres.query("SELECT count(*) FROM publish_requests").collect()
                remaining = try rows.first?.decode(Int.self) ?? 0
            }
            #expect(remaining == 0, "the sweep left the old key")
            let again = try await server.request(.POST, "/api/v1/notifications", token: admin, json: body)
            #expect(again.status == .created && again.json?["ids"] != first.json?["ids"])
        }
    }

    @Test("expired notifications are never listed, counted or changed")
    func expiryHides() async throws {
        try await TestServer.with { server in
            // Twelve seconds to publish, mint and list before it expires, on a machine the whole suite keeps busy.
            let expiry = Date().addingTimeInterval(12)
            let soon = Timestamp.string(expiry)
            let ids = try await server.publish(
                #"{"user_id":"ex","type":"system","title":"t","message":"m","expires_at":"\#(soon)"}"#)
            let ex = try await server.token("ex")
            let before = try await server.request(.GET, "/api/v1/notifications", token: ex)
            #expect(before.ids == ids)
            #expect(before.items.first?["expires_at"]?.stringValue == soon)
            try await Task.sleep(for: .seconds(max(0, expiry.timeIntervalSinceNow) + 0.5))
            #expect(try await server.request(.GET, "/api/v1/notifications", token: ex).items.isEmpty)
            #expect(
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: ex).json?["count"]
                    == .int(0))
            #expect(
                try await server.request(.PUT, "/api/v1/notifications/\(ids[0])/read", token: ex).status == .notFound)
        }
    }

    @Test("a location notification is stored once and read per user")
    func perUserStateOfSharedNotifications() async throws {
        try await TestServer.with { server in
            let ids = try await server.publish(#"{"location_id":"L5","type":"team_update","title":"t","message":"m"}"#)
            #expect(ids.count == 1)
            let a = try await server.token("a", locations: ["L5"])
            let b = try await server.token("b", locations: ["L5"])
            #expect(try await server.request(.PUT, "/api/v1/notifications/\(ids[0])/read", token: a).status == .ok)
            let seenByA = try await server.request(.GET, "/api/v1/notifications", token: a)
            let seenByB = try await server.request(.GET, "/api/v1/notifications", token: b)
            #expect(seenByA.items.first?["is_read"] == .bool(true))
            #expect(seenByA.items.first?["location_id"] == .string("L5"))
            #expect(seenByB.items.first?["is_read"] == .bool(false))
            #expect(
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: a).json?["count"] == .int(0)
            )
            #expect(
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: b).json?["count"] == .int(1)
            )
            // A deletes it: gone for A, still there for B.
            #expect(try await server.request(.DELETE, "/api/v1/notifications/\(ids[0])", token: a).status == .ok)
            #expect(try await server.request(.GET, "/api/v1/notifications", token: a).items.isEmpty)
            #expect(try await server.request(.GET, "/api/v1/notifications", token: b).ids == ids)
            // Unread again is per user too.
            #expect(try await server.request(.PUT, "/api/v1/notifications/\(ids[0])/read", token: b).status == .ok)
            #expect(try await server.request(.PUT, "/api/v1/notifications/\(ids[0])/unread", token: b).status == .ok)
            #expect(
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: b).json?["count"] == .int(1)
            )
        }
    }
}
