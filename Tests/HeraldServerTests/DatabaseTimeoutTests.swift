import Foundation
import HeraldServer
import PostgresNIO
import Testing

/// What a client is told when PostgreSQL is slow or a lock is held, as opposed to down: a timeout that changed
/// nothing, or a busy database, each 503 with `Retry-After` and saying which; never "Database unavailable" while
/// the database is fine, and never a change committed after the client was told it failed.
@Suite("Database timeouts")
struct DatabaseTimeoutTests {
    @Test("a statement slower than the request is cancelled, answered as a timeout, and leaves nothing behind")
    func slowStatement() async throws {
        try await TestServer.with(["REQUEST_TIMEOUT": "1"]) { server in
            // The reader's first request (its locations recorded, its statement planned) is made now, so the one
            // at the end is only the count and fits in the second even with the whole suite loading both cores.
            let token = try await server.token("slow")
            _ = try await server.request(.GET, "/api/v1/notifications/unread-count", token: token)
            // Every insert into notifications now sleeps for longer than the request may take.
            try await server.sql(
                """
                CREATE FUNCTION slow_insert() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN PERFORM pg_sleep(5); RETURN NEW; END $$
                """)
            try await server.sql(
                "CREATE TRIGGER slow BEFORE INSERT ON notifications FOR EACH ROW EXECUTE FUNCTION slow_insert()")
            let admin = try await server.adminToken()
            let started = Date()
            let response = try await server.request(
                .POST, "/api/v1/notifications", token: admin,
                json: #"{"user_id":"slow","type":"system","title":"t","message":"m"}"#)
            #expect(response.status == .serviceUnavailable)
            #expect(response.headers.first(name: "Retry-After") == "1")
            let detail = response.json?["detail"]?.stringValue ?? ""
            #expect(detail.contains("timed out"), "\(detail)")
            #expect(!detail.contains("Database unavailable"), "\(detail)")
            // Answered at the 1 s deadline, not when the 5 s insert ended.
            #expect(Date().timeIntervalSince(started) < 4)
            // Well after the trigger would have finished, nothing was stored.
            try await Task.sleep(for: .seconds(5))
            let stored = try await server.app.postgres.query("SELECT count(*) FROM notifications").collect()
            #expect(try stored.first?.decode(Int.self) == 0)
            // The database was fine all along: other requests are answered at once.
            try await server.sql("DROP TRIGGER slow ON notifications")
            #expect(try await server.request(.GET, "/api/v1/health/ready").status == .ok)
            #expect(try await server.request(.GET, "/api/v1/notifications/unread-count", token: token).status == .ok)
        }
    }

    @Test("a slow read is a timeout too, and the database gate stays open")
    func slowRead() async throws {
        // Two seconds, not one: the list afterwards must fit in it with the whole suite loading both cores.
        try await TestServer.with(["REQUEST_TIMEOUT": "2"]) { server in
            let token = try await server.token("reader")
            try await server.sql(
                """
                CREATE OR REPLACE FUNCTION herald_unread_count(p_user text, p_audiences text[]) RETURNS bigint
                LANGUAGE sql AS 'SELECT 0 FROM pg_sleep(6)'
                """)
            let response = try await server.request(.GET, "/api/v1/notifications/unread-count", token: token)
            #expect(response.status == .serviceUnavailable)
            #expect(response.json?["detail"]?.stringValue?.contains("timed out") == true)
            let list = try await server.request(.GET, "/api/v1/notifications", token: token)
            #expect(list.status == .ok)
        }
    }

    @Test("while another session holds the publish lock, publishes answer 503 quickly, then succeed once it goes")
    func publishLockHeld() async throws {
        // The lock wait gives up at 1.6 s, and the answer says "Busy"; the request's own deadline would say "timed
        // out". REQUEST_TIMEOUT is 8 s so that the lock's answer comes first even on a loaded machine, where the
        // principal's first request and the group commit's first connection took this publish to 4.4 s.
        try await TestServer.with(["REQUEST_TIMEOUT": "8"]) { server in
            let admin = try await server.adminToken()
            let holder = try await PostgresConnection.connect(
                configuration: try DatabaseURL.connectionConfiguration(try TestCluster.url(database: server.database)),
                id: 1, logger: TestCluster.logger)
            do {
                // The key Herald's publishes take (PublishStore.publishLockKey), held by a stalled publisher.
                _ = try await holder.query(
                    "SELECT pg_advisory_lock(\(Int64(0x4845_5241_4C44_5055)))", logger: TestCluster.logger
                ).collect()
                let started = Date()
                let refused = try await server.request(
                    .POST, "/api/v1/notifications", token: admin,
                    json: #"{"user_id":"locked","type":"system","title":"t","message":"m"}"#)
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.headers.first(name: "Retry-After") == "1")
                #expect(refused.json?["detail"]?.stringValue?.contains("Busy") == true)
                #expect(Date().timeIntervalSince(started) < 8)
                _ = try await holder.query("SELECT pg_advisory_unlock_all()", logger: TestCluster.logger).collect()
                #expect(
                    try await server.publish(#"{"user_id":"locked","type":"system","title":"t","message":"m"}"#).count
                        == 1)
            } catch {
                try? await holder.close()
                throw error
            }
            try await holder.close()
        }
    }

    /// The plan mode is what keeps a list page and a count from being planned on every request (DatabaseURL).
    @Test("every pooled connection carries the statement, lock and idle-in-transaction limits, and generic plans")
    func sessionLimits() async throws {
        try await TestServer.with(["REQUEST_TIMEOUT": "5"]) { server in
            var limits: [String: String] = [:]
            for name in ["statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "plan_cache_mode"]
            {
                let rows = try await server.app.postgres.query(PostgresQuery(unsafeSQL: "SHOW \(name)")).collect()
                limits[name] = try rows.first?.decode(String.self)
            }
            #expect(
                limits == [
                    "statement_timeout": "4s", "lock_timeout": "2s", "idle_in_transaction_session_timeout": "10s",
                    "plan_cache_mode": "force_generic_plan",
                ])
        }
    }
}
