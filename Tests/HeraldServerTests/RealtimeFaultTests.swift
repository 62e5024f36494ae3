import AsyncHTTPClient
import Foundation
import HeraldServer
import NIOConcurrencyHelpers
import PostgresNIO
import Testing

/// Slow consumers, SIGTERM drain and a PostgreSQL restart.
@Suite("Realtime faults", .serialized)
struct RealtimeFaultTests {
    @Test("a socket that stops reading is closed; a reading one at the same location keeps its latency")
    func slowConsumer() async throws {
        try await TestServer.with(["WS_SEND_BUFFER_BYTES": "262144"]) { server in
            let fast = try await TestSocket.open(server, token: try await server.token("fast", locations: ["S"]))
            let slow = try await RawSocket.connect(
                port: server.app.port, token: try await server.token("slow", locations: ["S"]), reading: false)
            let padding = String(repeating: "p", count: 30_000)
            let admin = try await server.adminToken()
            var latencies: [Double] = []
            for n in 0..<220 {
                let started = Date()
                let ids = try await server.publish(
                    #"{"location_id":"S","type":"system","title":"\#(n)","message":"m","data":{"pad":"\#(padding)"}}"#,
                    token: admin)
                var got = try await fast.next("notification", timeout: 5)
                while got["id"]?.int64Value != ids[0] { got = try await fast.next("notification", timeout: 5) }
                latencies.append(Date().timeIntervalSince(started))
            }
            // The client reads nothing, so it cannot see the close itself: ask the server how many sockets it holds.
            var connections: JSONValue?
            for _ in 0..<100 {
                connections = try await server.request(.GET, "/api/v1/ws/status").json?["connections"]?[
                    "total_connections"]
                if connections == .int(1) { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(connections == .int(1), "the slow socket was never closed")
            let sorted = latencies.sorted()
            let p50 = sorted[sorted.count / 2]
            let worst = sorted.last ?? 0
            #expect(worst < 1.0, "the fast socket waited \(worst)s (p50 \(p50)s) over \(latencies.count) publishes")
            #expect(!fast.socket.isClosed)
        }
    }

    @Test("SIGTERM: every socket gets 1001, nothing acknowledged is lost, exit 0")
    func sigtermDrain() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        let herald = try await HeraldProcess.start(database: database)
        let minter = await TokenMinter(secret: TestServer.secret)
        var sockets: [TestSocket] = []
        for n in 0..<5 {
            let socket = try await TestSocket.connect(
                port: herald.port, token: try await minter.mint(sub: "d\(n)", locations: ["D"]))
            _ = try await socket.next("connection")
            sockets.append(socket)
        }
        let admin = try await minter.mint(sub: "admin", role: .admin)
        let answer = try await PortPublisher.publish(
            port: herald.port, #"{"location_id":"D","type":"system","title":"before","message":"m"}"#, token: admin)
        #expect(answer.status == .created)
        for socket in sockets { _ = try await socket.next("notification") }
        let status = try await herald.stop(signal: SIGTERM)
        #expect(status == 0, "exit status \(status); logs: \(herald.logs.suffix(2000))")
        for socket in sockets { #expect(try await socket.closeCode() == 1001) }
        #expect(!herald.logs.contains(admin))
    }

    /// One publish of the load: when it started and ended, what it answered, and the ids it acknowledged.
    struct Attempt: Sendable {
        let started: Date
        let ended: Date
        let status: UInt
        let ids: [Int64]
        let user: Int?
    }

    @Test("PostgreSQL restart under load: 503 at once during the outage, and every 201 reaches its sockets")
    func databaseRestartUnderLoad() async throws {
        let port = 5439
        let data = TestCluster.packageRoot.appendingPathComponent(".data/pg-restart").path
        let script = TestCluster.packageRoot.appendingPathComponent(".ci/postgres.sh").path
        let cluster = ["HERALD_PG_PORT": "\(port)", "HERALD_PG_DATA": data]
        let pgctl = try Self.pgBin("pg_ctl")
        let stop = { @Sendable (mode: String) async throws in
            try await Self.run(
                "/usr/sbin/runuser", ["-u", "postgres", "--", pgctl, "-D", data, "-m", mode, "-w", "stop"])
        }
        try? await stop("immediate")
        try await Self.run(script, ["herald_restart"], environment: cluster)
        let url = "postgres://herald@127.0.0.1:\(port)/herald_restart"
        let client = PostgresClient(
            configuration: try DatabaseURL.configuration(url, poolSize: 1), backgroundLogger: TestCluster.logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            // Drained, so an error PostgreSQL reports after the row description is not lost.
            _ = try await client.query("DROP SCHEMA public CASCADE").collect()
            _ = try await client.query("CREATE SCHEMA public").collect()
            try await MigrationStore(logger: TestCluster.logger).migrate(try TestCluster.migrations(), using: client)
            group.cancelAll()
        }
        let configuration = try HeraldConfiguration(environment: [
            "DATABASE_URL": url, "JWT_SECRET": TestServer.secret, "PORT": "0", "LOG_LEVEL": "critical",
            "DATABASE_POOL_SIZE": "4",
        ])
        let app = try await HeraldApp.start(configuration, logger: TestCluster.logger)
        let server = TestServer(
            app: app, database: "herald_restart", minter: await TokenMinter(secret: TestServer.secret))
        try await server.waitUntilReady()
        let users = 20
        var sockets: [TestSocket] = []
        for user in 0..<users {
            sockets.append(
                try await TestSocket.open(server, token: try await server.token("pr-\(user)", locations: ["P"])))
        }
        let admin = try await server.adminToken()

        // Four publishers, without pause, alternating location P and one user, until told to stop.
        let running = NIOLockedValueBox(true)
        let attempts = NIOLockedValueBox<[Attempt]>([])
        let load = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for publisher in 0..<4 {
                    group.addTask {
                        var n = 0
                        while running.withLockedValue({ $0 }) {
                            n += 1
                            let user = n % 2 == 0 ? (publisher * 7 + n) % users : nil
                            let target = user.map { #""user_id":"pr-\#($0)""# } ?? #""location_id":"P""#
                            let started = Date()
                            let response = try await server.request(
                                .POST, "/api/v1/notifications", token: admin,
                                json: #"{\#(target),"type":"system","title":"p\#(publisher)-\#(n)","message":"m"}"#)
                            var ids: [Int64] = []
                            if case .array(let values)? = response.json?["ids"] {
                                ids = values.compactMap(\.int64Value)
                            }
                            let attempt = Attempt(
                                started: started, ended: Date(), status: response.status.code, ids: ids, user: user)
                            attempts.withLockedValue { $0.append(attempt) }
                            if response.status != .created { try await Task.sleep(for: .milliseconds(20)) }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        try await Task.sleep(for: .seconds(1))
        let outageStarted = Date()
        try await stop("fast")
        try await Task.sleep(for: .seconds(3))
        let restartBegan = Date()
        try await Self.run(script, [], environment: cluster)
        // The pool reconnects with a backoff that, on a loaded machine, can outlast a few seconds after a 3 s
        // outage; so the load runs until a publish started after the restart is acknowledged (or 30 s pass, and
        // the expectation below fails), then one more second to put deliveries from both sides of it in flight.
        let resumeDeadline = Date().addingTimeInterval(30)
        while Date() < resumeDeadline,
            !attempts.withLockedValue({ $0.contains { $0.status == 201 && $0.started > restartBegan } })
        {
            try await Task.sleep(for: .milliseconds(100))
        }
        try await Task.sleep(for: .seconds(1))
        running.withLockedValue { $0 = false }
        try await load.value

        let all = attempts.withLockedValue { $0 }
        let acknowledged = all.filter { $0.status == 201 }
        let duringOutage = all.filter {
            $0.started > outageStarted.addingTimeInterval(0.3) && $0.ended < restartBegan
        }
        let slowest = duringOutage.map { $0.ended.timeIntervalSince($0.started) }.max() ?? 0
        #expect(Set(all.map(\.status)).isSubset(of: [201, 503]), "statuses: \(Set(all.map(\.status)))")
        #expect(duringOutage.count > 20, "publishes kept coming during the outage")
        #expect(duringOutage.allSatisfy { $0.status == 503 }, "only 503 while PostgreSQL is down")
        #expect(slowest < 1, "a publish during the outage took \(slowest) s: it must fail fast")
        #expect(acknowledged.contains { $0.started > restartBegan }, "publishing resumed after the restart")

        // Every acknowledged notification reaches the sockets that may see it, live or by the listener's catch-up.
        var expected: [Set<Int64>] = Array(repeating: [], count: users)
        for attempt in acknowledged {
            for user in 0..<users where attempt.user == nil || attempt.user == user {
                expected[user].formUnion(attempt.ids)
            }
        }
        func received(_ user: Int) -> [Int64] { sockets[user].all("notification").compactMap { $0["id"]?.int64Value } }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline, (0..<users).contains(where: { !expected[$0].isSubset(of: received($0)) }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let lost = (0..<users).map { expected[$0].subtracting(received($0)).count }.reduce(0, +)
        let duplicates = (0..<users).map { received($0).count - Set(received($0)).count }.reduce(0, +)
        let deliveries = expected.map(\.count).reduce(0, +)
        print(
            "PostgreSQL restart under load: \(all.count) publishes, \(acknowledged.count) acknowledged (201), "
                + "\(all.count - acknowledged.count) refused (503), \(duringOutage.count) during the outage, slowest "
                + "\(String(format: "%.0f", slowest * 1000)) ms; \(deliveries) deliveries due, \(deliveries - lost) "
                + "received, \(lost) lost, \(duplicates) duplicated")
        #expect(lost == 0)
        #expect(duplicates == 0)
        #expect(try await server.request(.GET, "/api/v1/health/ready").status == .ok)
        for socket in sockets { await socket.close() }
        await app.shutdown(timeout: .seconds(2))
        try? await stop("immediate")
    }

    static func pgBin(_ name: String) throws -> String {
        let versions = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted {
            $0.compare($1, options: .numeric) == .orderedAscending
        }
        guard let latest = versions.last else { throw TestSetupError("PostgreSQL is not installed") }
        return "/usr/lib/postgresql/\(latest)/bin/\(name)"
    }

    /// Runs a command to completion without blocking a thread of the concurrency pool.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws {
        let child = try SpawnedProcess.spawn(
            executable, arguments,
            environment: ProcessInfo.processInfo.environment.merging(environment, uniquingKeysWith: { _, new in new }))
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            if let status = child.exitStatus() {
                guard status == 0 else {
                    throw TestSetupError("\(executable) \(arguments) exited \(status): \(child.log)")
                }
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(child.pid, SIGKILL)
        throw TestSetupError("\(executable) \(arguments) did not finish")
    }
}
