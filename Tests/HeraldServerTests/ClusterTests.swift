import Foundation
import HeraldServer
import PostgresNIO
import Testing

/// One system however many instances run: the connection limit, sessions, revocation, presence and the status
/// totals are the cluster's, with two and three real instances on one database.
@Suite("Cluster")
struct ClusterTests {
    /// Waits until `condition` holds, up to `timeout` seconds.
    static func eventually(
        _ what: String, timeout: Double = 5, _ condition: () async throws -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSetupError("timed out waiting for \(what)")
    }

    /// Which of `sockets` stay open once the cluster has decided, and the close codes of the others: waits (up to
    /// 10 s, since sockets are recorded in batches and closed through NOTIFY) until `expected` are open, then holds a
    /// second more so that a decision closing too many would show.
    static func settle(_ sockets: [TestSocket], expected: Int) async throws -> (open: [Int], codes: [Int]) {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, sockets.filter({ !$0.socket.isClosed }).count != expected {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .seconds(1))
        var open: [Int] = []
        var codes: [Int] = []
        for (index, socket) in sockets.enumerated() {
            if socket.socket.isClosed {
                codes.append(try await socket.closeCode() ?? 0)
            } else {
                open.append(index)
            }
        }
        return (open, codes)
    }

    @Test(
        "12 sockets of one user through two instances with a limit of 5: exactly 5 stay open",
        arguments: ["evict_oldest", "reject"])
    func clusterWideLimit(policy: String) async throws {
        try await TestServer.withInstances(
            2, ["WS_MAX_CONNECTIONS_PER_USER": "5", "WS_LIMIT_POLICY": policy]
        ) { servers in
            let token = try await servers[0].token("limited")
            var sockets: [TestSocket] = []
            for index in 0..<12 {
                sockets.append(try await TestSocket.connect(port: servers[index % 2].app.port, token: token))
                try await Task.sleep(for: .milliseconds(60))
            }
            let (open, codes) = try await Self.settle(sockets, expected: 5)
            #expect(open.count == 5, "open: \(open), closed with \(codes)")
            if policy == "evict_oldest" {
                #expect(open == Array(7..<12), "the newest stay")
                #expect(Set(codes) == [4409])
            } else {
                #expect(open == Array(0..<5), "the oldest stay")
                #expect(Set(codes) == [4429])
            }
            // Concurrently, another user's 12 connects across both instances still leave exactly 5.
            let racer = try await servers[0].token("racer")
            let racing = try await withThrowingTaskGroup(of: TestSocket.self) { group in
                for index in 0..<12 {
                    group.addTask { try await TestSocket.connect(port: servers[index % 2].app.port, token: racer) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let raced = try await Self.settle(racing, expected: 5)
            #expect(raced.open.count == 5, "open \(raced.open.count), closed with \(raced.codes)")
        }
    }

    @Test("an instance killed with kill -9 stops holding its users' places once its lease runs out")
    func deadInstanceLetsGo() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        let settings = ["WS_MAX_CONNECTIONS_PER_USER": "5", "WS_LIMIT_POLICY": "reject", "INSTANCE_LEASE": "3"]
        let survivor = try await TestServer.start(database: database, settings: settings, instance: "survivor")
        let victim = try await HeraldProcess.start(database: database, settings: settings)
        do {
            let token = try await survivor.token("mortal")
            var held: [TestSocket] = []
            for _ in 0..<3 { held.append(try await TestSocket.connect(port: victim.port, token: token)) }
            for _ in 0..<2 { held.append(try await TestSocket.connect(port: survivor.app.port, token: token)) }
            #expect(try await Self.settle(held, expected: 5).open.count == 5)
            _ = try await victim.stop(signal: SIGKILL)
            let killed = Date()
            // Within the lease (3 s) and a renewal's slack, the user can hold 5 again on the survivor. A socket
            // counts as admitted once its row is listed: the transaction that writes it also rejects it if over.
            let admin = try await survivor.adminToken()
            var again: [TestSocket] = []
            try await Self.eventually("three more sockets on the survivor", timeout: 8) {
                let socket = try await TestSocket.open(survivor, token: token)
                let id = try #require(socket.messages.first?["session_id"]?.stringValue)
                try await Self.eventually("the socket decided", timeout: 3) {
                    if socket.socket.isClosed { return true }
                    let listed = try await survivor.request(.GET, "/api/v1/ws/sessions?user_id=mortal", token: admin)
                    guard case .array(let sessions)? = listed.json?["sessions"] else { return false }
                    return sessions.contains { $0["session_id"]?.stringValue == id }
                }
                if socket.socket.isClosed { return false }
                again.append(socket)
                return again.count == 3
            }
            #expect(Date().timeIntervalSince(killed) <= 8)
            let standing = try await Self.settle(Array(held.suffix(2)) + again, expected: 5)
            #expect(standing.open.count == 5, "closed with \(standing.codes)")
        } catch {
            _ = try? await victim.stop(signal: SIGKILL)
            await survivor.app.shutdown(timeout: .seconds(2))
            throw error
        }
        await survivor.app.shutdown(timeout: .seconds(2))
    }

    @Test("sessions of both instances are listed, closed one by one or all at once with 4410, by operators only")
    func sessionsAPI() async throws {
        try await TestServer.withInstances(2) { servers in
            let admin = try await servers[0].adminToken()
            let token = try await servers[0].token("watched", locations: ["W"])
            let one = try await TestSocket.open(servers[0], token: token)
            let two = try await TestSocket.open(servers[1], token: token)
            let three = try await TestSocket.open(servers[1], token: token)
            var listed: [JSONValue] = []
            try await Self.eventually("three sessions listed") {
                let response = try await servers[0].request(.GET, "/api/v1/ws/sessions?user_id=watched", token: admin)
                guard case .array(let sessions)? = response.json?["sessions"] else { return false }
                listed = sessions
                return sessions.count == 3
            }
            #expect(Set(listed.compactMap { $0["instance"]?.stringValue }) == ["test-0", "test-1"])
            #expect(listed.allSatisfy { $0["locations"] == .array([.string("W")]) && $0["connected_at"] != nil })
            // Permissions: a plain user never; staff of another location no; staff of W yes.
            let plain = try await servers[0].token("plain", locations: ["W"])
            #expect(
                try await servers[0].request(.GET, "/api/v1/ws/sessions?user_id=watched", token: plain).status
                    == .forbidden)
            let elsewhere = try await servers[0].token("staff-x", locations: ["X"], role: .staff)
            #expect(
                try await servers[0].request(.GET, "/api/v1/ws/sessions?location_id=W", token: elsewhere).status
                    == .forbidden)
            let staff = try await servers[0].token("staff-w", locations: ["W"], role: .staff)
            #expect(
                try await servers[0].request(.GET, "/api/v1/ws/sessions?location_id=W", token: staff).status == .ok)
            #expect(
                try await servers[0].request(.GET, "/api/v1/ws/sessions", token: admin).status == .unprocessableEntity)

            // One session, on the other instance, closed with 4410.
            let target = try #require(
                listed.first { $0["instance"] == .string("test-1") }?["session_id"]?.stringValue)
            let closing = try await servers[0].request(.DELETE, "/api/v1/ws/sessions/\(target)", token: admin)
            #expect(closing.status == .accepted)
            try await Self.eventually("the session to close") { two.socket.isClosed || three.socket.isClosed }
            let (gone, kept) = two.socket.isClosed ? (two, three) : (three, two)
            #expect(try await gone.closeCode() == 4410)
            try await Task.sleep(for: .milliseconds(200))
            #expect(!kept.socket.isClosed, "only the one session closes")
            #expect(
                try await servers[0].request(
                    .DELETE, "/api/v1/ws/sessions/00000000-0000-0000-0000-000000000000", token: admin
                ).status == .notFound)
            // Everything else of the user, everywhere.
            try await Task.sleep(for: .milliseconds(200))
            let all = try await servers[1].request(.DELETE, "/api/v1/users/watched/sessions", token: admin)
            #expect(all.status == .accepted)
            #expect(all.json?["closing"] == .int(2))
            #expect(try await one.closeCode() == 4410)
        }
    }

    @Test(
        "a lapsed lease (a paused process, swept by another) is noticed: its sockets are listed again; new locations show"
    )
    func lapsedLeaseResyncs() async throws {
        try await TestServer.withInstances(2, ["INSTANCE_LEASE": "3"]) { servers in
            let admin = try await servers[0].adminToken()
            let socket = try await TestSocket.open(
                servers[1], token: try await servers[1].token("paused", locations: ["A"]))
            func listed() async throws -> [JSONValue] {
                let response = try await servers[0].request(.GET, "/api/v1/ws/sessions?user_id=paused", token: admin)
                guard case .array(let sessions)? = response.json?["sessions"] else { return [] }
                return sessions
            }
            try await Self.eventually("the socket listed") { try await listed().count == 1 }
            // What another instance's sweep does to an instance whose lease ran out a minute ago. The instance
            // renews every second, so the list may already hold the socket again when it is next read: the sweep is
            // checked by the rows it deleted instead.
            let swept = try await servers[0].app.postgres.query(
                PostgresQueryText.make(
                    """
                    WITH lapsed AS (
                        UPDATE herald_instances SET lease_until = now() - interval '2 minutes'
                        WHERE instance_id = 'test-1' RETURNING incarnation
                    ), gone AS (
                        DELETE FROM ws_sessions WHERE incarnation IN (SELECT incarnation FROM lapsed) RETURNING 1
                    )
                    SELECT count(*)::int FROM gone
                    """)
            ).collect()
            #expect(try swept.first?.decode(Int.self) == 1)
            try await Self.eventually("the socket listed again after the next renewal", timeout: 5) {
                try await listed().count == 1
            }
            // A token refresh that moves the user to B moves the socket's row too.
            try await socket.send(
                #"{"type":"auth","token":"\#(try await servers[1].token("paused", locations: ["B"]))"}"#)
            _ = try await socket.next("auth_ok")
            try await Self.eventually("the socket listed at B") {
                try await listed().first?["locations"] == .array([.string("B")])
            }
            #expect(!socket.socket.isClosed)
        }
    }

    @Test(
        "while PostgreSQL is out of reach, sockets are admitted up to the per-instance limit; once back, the cluster's")
    func databaseOutageReconciles() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        let proxy = try await StallingProxy.start(upstreamPort: try TestCluster.port)
        let limit = ["WS_MAX_CONNECTIONS_PER_USER": "5", "WS_LIMIT_POLICY": "evict_oldest"]
        let cut = try await TestServer.start(
            database: database, settings: limit.merging(["DATABASE_URL": try proxy.url(database: database)]) { $1 },
            instance: "cut")
        let direct = try await TestServer.start(database: database, settings: limit, instance: "direct")
        do {
            let token = try await direct.token("outage")
            var earlier: [TestSocket] = []
            for _ in 0..<3 { earlier.append(try await TestSocket.open(direct, token: token)) }
            let admin = try await direct.adminToken()
            try await Self.eventually("three sockets recorded") {
                let response = try await direct.request(.GET, "/api/v1/ws/sessions?user_id=outage", token: admin)
                guard case .array(let sessions)? = response.json?["sessions"] else { return false }
                return sessions.count == 3
            }
            // The instance behind the proxy loses PostgreSQL: it still admits, up to its own limit.
            proxy.refuseNew(true)
            proxy.cutAll()
            var during: [TestSocket] = []
            for _ in 0..<7 {
                during.append(try await TestSocket.open(cut, token: token))
                try await Task.sleep(for: .milliseconds(30))
            }
            let admitted = try await Self.settle(during, expected: 5)
            #expect(admitted.open == Array(2..<7) && Set(admitted.codes) == [4409])
            #expect(earlier.allSatisfy { !$0.socket.isClosed }, "the cluster's limit waits for the database")
            // PostgreSQL is back: the cut instance records its 5, and the user's 3 older sockets elsewhere close.
            proxy.refuseNew(false)
            let reconciled = try await Self.settle(earlier + during, expected: 5)
            #expect(reconciled.open == Array(5..<10), "closed with \(reconciled.codes)")
            #expect(Set(reconciled.codes) == [4409])
        } catch {
            await cut.app.shutdown(timeout: .seconds(2))
            await direct.app.shutdown(timeout: .seconds(2))
            await proxy.close()
            throw error
        }
        await cut.app.shutdown(timeout: .seconds(2))
        await direct.app.shutdown(timeout: .seconds(2))
        await proxy.close()
    }

    @Test("revoke: every older token is refused on every instance, REST and socket; open sockets close with 4401")
    func revocation() async throws {
        try await TestServer.withInstances(2) { servers in
            let old = try await servers[0].token("leaver")
            // A revocation is whole seconds, like iat: a token from the revocation's own second still works.
            try await Task.sleep(for: .milliseconds(1100))
            let near = try await TestSocket.open(servers[0], token: old)
            let far = try await TestSocket.open(servers[1], token: old)
            #expect(try await servers[1].request(.GET, "/api/v1/notifications", token: old).status == .ok)
            let plain = try await servers[0].token("someone")
            #expect(
                try await servers[0].request(.POST, "/api/v1/users/leaver/revoke", token: plain).status == .forbidden)
            let service = try await servers[0].token("auth-service", scope: "notifications:publish")
            let revoked = try await servers[0].request(.POST, "/api/v1/users/leaver/revoke", token: service)
            #expect(revoked.status == .ok)
            #expect(try await near.closeCode() == 4401)
            #expect(try await far.closeCode() == 4401)
            for server in servers {
                let refused = try await server.request(.GET, "/api/v1/notifications", token: old)
                #expect(refused.status == .unauthorized && refused.detail == "token revoked")
                let socket = try await RawSocket.connect(port: server.app.port, token: old)
                #expect(await socket.closeCode() == 4401)
            }
            // A token issued after the revocation (in a later second) works everywhere.
            try await Task.sleep(for: .milliseconds(1100))
            let fresh = try await servers[0].token("leaver")
            for server in servers {
                #expect(try await server.request(.GET, "/api/v1/notifications", token: fresh).status == .ok)
                _ = try await TestSocket.open(server, token: fresh)
            }
        }
    }

    @Test("presence and status: exactly who is online at a location, and totals that are the sum over instances")
    func presenceAndStatus() async throws {
        try await TestServer.withInstances(3, ["INSTANCE_LEASE": "3"]) { servers in
            var sockets: [TestSocket] = []
            for (index, (user, location)) in [("p1", "P"), ("p1", "P"), ("p2", "P"), ("q1", "Q"), ("p3", "P")]
                .enumerated()
            {
                let server = servers[index % 3]
                sockets.append(
                    try await TestSocket.open(server, token: try await server.token(user, locations: [location])))
            }
            let staff = try await servers[0].token("staff-p", locations: ["P"], role: .staff)
            var users: [JSONValue] = []
            try await Self.eventually("three users present at P") {
                let response = try await servers[2].request(.GET, "/api/v1/locations/P/presence", token: staff)
                guard case .array(let present)? = response.json?["users"] else { return false }
                users = present
                return present.count == 3
            }
            #expect(users.compactMap { $0["user_id"]?.stringValue } == ["p1", "p2", "p3"])
            #expect(users.first?["sockets"] == .int(2))
            let outsider = try await servers[0].token("staff-q", locations: ["Q"], role: .staff)
            #expect(
                try await servers[0].request(.GET, "/api/v1/locations/P/presence", token: outsider).status
                    == .forbidden)

            try await Task.sleep(for: .milliseconds(1100))  // past the status cache
            let status = try #require(try await servers[1].request(.GET, "/api/v1/ws/status").json)
            #expect(status["scope"] == .string("cluster"))
            #expect(status["connections"]?["total_connections"] == .int(5))
            #expect(status["connections"]?["total_users"] == .int(4))
            #expect(status["connections"]?["by_location"] == .object(["P": .int(4), "Q": .int(1)]))
            guard case .array(let instances)? = status["instances"] else { throw TestSetupError("no instances") }
            #expect(Set(instances.compactMap { $0["id"]?.stringValue }) == ["test-0", "test-1", "test-2"])
            // Each instance reports its own count with its lease (every second here): they add up to the total.
            try await Self.eventually("the instances' counts to add up", timeout: 5) {
                let status = try await servers[0].request(.GET, "/api/v1/ws/status").json
                guard case .array(let instances)? = status?["instances"] else { return false }
                return instances.compactMap { $0["connections"]?.int64Value }.reduce(0, +) == 5
            }
            _ = sockets
        }
    }
}
