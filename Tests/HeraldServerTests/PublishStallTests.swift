import Foundation
import HeraldServer
import Testing

/// The group commit's connection going silent without closing (a stalled proxy, a dropped route) must not hold
/// the publishes after it: the stalled one is refused as unknown, its connection is dropped, and the next publish
/// is stored on a new connection, with nothing stored twice or lost.
@Suite("Publish stall", .serialized)
struct PublishStallTests {
    @Test("a publish on a silent connection is refused within the request's time, and the next one is stored")
    func silentCommitConnection() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        let proxy = try await StallingProxy.start(upstreamPort: try TestCluster.port)
        let server = try await TestServer.start(
            database: database, settings: ["DATABASE_URL": try proxy.url(database: database), "REQUEST_TIMEOUT": "2"],
            instance: "proxied")
        do {
            let admin = try await server.adminToken()
            let first = try await server.publish(#"{"user_id":"stall","type":"system","title":"1","message":"m"}"#)

            // The network goes silent for the connection that committed it, without closing it.
            proxy.stallCommits()
            let started = Date()
            let refused = try await server.request(
                .POST, "/api/v1/notifications", token: admin,
                json: #"{"user_id":"stall","type":"system","title":"2","message":"m"}"#)
            #expect(refused.status == .serviceUnavailable || refused.status == .gatewayTimeout, "\(refused.status)")
            #expect(Date().timeIntervalSince(started) < 10)

            // The next publish does not queue behind the stalled statement: it goes out on a new connection.
            let after = try await server.publish(#"{"user_id":"stall","type":"system","title":"3","message":"m"}"#)
            #expect(after[0] > first[0])
            let token = try await server.token("stall")
            let page = try await server.request(.GET, "/api/v1/notifications", token: token)
            let titles = page.items.compactMap { $0["title"]?.stringValue }
            // The stalled statement never reached PostgreSQL, so it is not stored: its client was told "unknown".
            #expect(titles == ["3", "1"])
        } catch {
            await server.app.shutdown(timeout: .seconds(2))
            await proxy.close()
            throw error
        }
        await server.app.shutdown(timeout: .seconds(2))
        await proxy.close()
    }

    @Test("after PostgreSQL ends the group commit's connection, the next publish opens another and is stored")
    func endedCommitConnection() async throws {
        // A long request time: a publish sent on the ended connection would be held for all of it.
        try await TestServer.with(["REQUEST_TIMEOUT": "30"]) { server in
            let first = try await server.publish(#"{"user_id":"ended","type":"system","title":"1","message":"m"}"#)
            // The backend that ran the batch statement, and only it, is ended as an administrator would.
            let backends = try await server.app.postgres.query(
                """
                SELECT pid FROM pg_stat_activity
                WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_advisory_xact_lock($1)%'
                """
            ).collect()
            let pids = try backends.map { try $0.decode(Int32.self) }
            try #require(pids.count == 1)
            try await server.sql("SELECT pg_terminate_backend(\(pids[0]))")
            for _ in 0..<100 {
                let left = try await server.app.postgres.query(
                    "SELECT count(*)::int FROM pg_stat_activity WHERE pid = \(pids[0])"
                ).collect()
                if try left.first?.decode(Int.self) == 0 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(200))
            let admin = try await server.adminToken()
            let started = Date()
            let response = try await server.request(
                .POST, "/api/v1/notifications", token: admin,
                json: #"{"user_id":"ended","type":"system","title":"2","message":"m"}"#)
            // Not held until the request's time runs out on the closed connection: a new one was opened.
            #expect(response.status == .created, "\(response.status) \(response.body)")
            #expect(Date().timeIntervalSince(started) < 15)
            guard case .array(let ids)? = response.json?["ids"], let id = ids.first?.int64Value else { return }
            #expect(id > first[0])
            let page = try await server.request(.GET, "/api/v1/notifications", token: try await server.token("ended"))
            #expect(page.items.compactMap { $0["title"]?.stringValue } == ["2", "1"])
        }
    }
}
