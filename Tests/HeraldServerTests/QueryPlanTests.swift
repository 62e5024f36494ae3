import Logging
import PostgresNIO
import Testing

@testable import HeraldServer

/// Every hot query of the inbox reads a number of rows bounded by a small multiple of the page, whatever the shape
/// of the data and whichever plan PostgreSQL picks: its own choice after the five custom plans of a prepared
/// statement (`auto`), and the generic plan (`force_generic_plan`), which cannot see which audience it reads.
///
/// Each shape has a database of its own, because what misleads the planner is the table's statistics as a whole
/// (how many distinct audiences it holds), and a shape mixed with others would hide it:
/// - a barbershop: one location holding a million rows, fifty users with ten personal rows each, no broadcasts,
///   and the members' receipts for one row in twenty; read by a member and by an outsider;
/// - a small user (20 rows) beside a huge one (a million, 1 % unread);
/// - five thousand users with ten rows each.
///
/// Rows read are counted from PostgreSQL's own statistics for the transaction (`pg_stat_get_xact_tuples_returned`
/// of every table and index), which include what triggers and functions read; a sequential scan of a table of
/// a thousand rows or more fails the test whatever it reads.
@Suite("Query plans", .serialized)
struct QueryPlanTests {
    enum Mode: String, CaseIterable, CustomTestStringConvertible {
        case auto
        case forceGenericPlan = "force_generic_plan"

        var testDescription: String { rawValue }
    }

    static let logger = Logger(label: "query-plan-test")

    static func principal(_ user: String, locations: [String] = []) -> Principal {
        Principal(userID: user, locations: locations, role: .user, scopes: [], expiresAt: 4_000_000_000)
    }

    @Test("every hot query stays within its bound on every shape", arguments: Mode.allCases, SkewedShape.allCases)
    func boundedReads(mode: Mode, shape: SkewedShape) async throws {
        let database = try await SkewedDatabases.shared.name(of: shape)
        let connection = try await PostgresConnection.connect(
            configuration: try DatabaseURL.connectionConfiguration(try TestCluster.url(database: database)), id: 1,
            logger: Self.logger)
        do {
            try await check(mode, shape: shape, database: database, on: connection)
        } catch {
            try? await connection.close()
            throw TestSetupError(String(reflecting: error))
        }
        try await connection.close()
    }

    private func check(
        _ mode: Mode, shape: SkewedShape, database: String, on connection: PostgresConnection
    ) async throws {
        let probe = ReadProbe(connection: connection, mode: mode)
        // The stores' pool is never run: every statement below goes through `connection`.
        let idle = PostgresClient(
            configuration: try DatabaseURL.configuration(try TestCluster.url(database: database), poolSize: 1))
        let store = InboxStore(client: idle, logger: Self.logger)
        let fanout = FanoutStore(client: idle, logger: Self.logger)
        let page = InboxFilter()
        var unread = InboxFilter()
        unread.unreadOnly = true
        let latest = try await connection.value(
            "SELECT max(id) FROM notifications", as: Int64.self, logger: Self.logger)!

        for (name, principal) in shape.principals {
            let newest = try await store.list(principal, page, on: connection)
            let visible = newest.ids
            // A page reads at most `limit` index entries per audience, then the page's rows: 12 × the page is
            // generous, and a walk of an audience or of the table is thousands of times more.
            try await probe.expect(
                "\(name): list page", atMost: 600, { try await store.list(principal, page, on: $0).ids.count })
            try await probe.expect(
                "\(name): unread page", atMost: 600, { try await store.list(principal, unread, on: $0).ids.count })
            try await probe.expect(
                "\(name): unread count", atMost: 100, { try await store.unreadCount(principal, on: $0).count })
            let since = visible.count > 10 ? visible[10] : 0
            try await probe.expect(
                "\(name): replay since \(since)", atMost: 600,
                { try await store.replay(principal, after: since, limit: 1001, on: $0).count })
            try await probe.expect(
                "\(name): read-all", atMost: 200,
                {
                    try await store.markAllRead(principal, type: nil, locationID: nil, before: nil, in: $0)
                })
            // After a read-all the unread page and the count look only above the watermark.
            try await probe.expect(
                "\(name): unread page after a read-all", atMost: 600,
                { connection in
                    _ = try await store.markAllRead(principal, type: nil, locationID: nil, before: nil, in: connection)
                    return try await store.list(principal, unread, on: connection).ids.count
                })
            try await probe.expect("\(name): clear", atMost: 200, { try await store.clear(principal, in: $0) })
            try await probe.expect(
                "\(name): list page after a clear", atMost: 600,
                { connection in
                    _ = try await store.clear(principal, in: connection)
                    return try await store.list(principal, page, on: connection).ids.count
                })
            if let id = visible.first {
                for change in [InboxStore.Change.read, .unread, .delete] {
                    try await probe.expect(
                        "\(name): \(change) one", atMost: 100,
                        { try await store.apply(change, id: id, for: principal, on: $0) ? 1 : 0 })
                }
                try await probe.expect(
                    "\(name): ack", atMost: 100,
                    { connection in
                        try await store.markDelivered(principal, ids: Array(visible.prefix(20)), on: connection)
                        return 0
                    })
            }
        }
        try await probe.expect(
            "listener catch-up", atMost: 300,
            { try await fanout.notifications(after: latest - 100, limit: 10_001, on: $0).count })
    }
}

/// Runs an operation in a transaction that is rolled back, and checks what it read.
struct ReadProbe {
    let connection: PostgresConnection
    let mode: QueryPlanTests.Mode

    /// Rows this transaction has read so far (sequential-scan rows of tables plus entries returned by indexes),
    /// and its sequential scans of tables that hold anything worth an index (an empty receipts table is rightly
    /// scanned).
    private static let counters: PostgresQuery = """
        SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(c.oid)), 0)::bigint,
               coalesce(sum(pg_stat_get_xact_numscans(c.oid)) FILTER (WHERE c.relkind = 'r' AND c.reltuples >= 1000),
                        0)::bigint
        FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
        WHERE s.nspname = 'public' AND c.relkind IN ('r', 'i')
        """

    /// `operation` reads at most `bound` rows and scans neither big table. In `auto` mode it first runs seven
    /// times (each rolled back), so prepared statements have passed the point where PostgreSQL may switch to
    /// their generic plan.
    func expect(
        _ what: String, atMost bound: Int64, _ operation: (PostgresConnection) async throws -> Int,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let logger = QueryPlanTests.logger
        try await connection.run("BEGIN", logger: logger)
        do {
            try await connection.run(
                PostgresQuery(unsafeSQL: "SET LOCAL plan_cache_mode = \(mode.rawValue)"), logger: logger)
            if mode == .auto {
                for _ in 0..<7 {
                    try await connection.run("SAVEPOINT warm", logger: logger)
                    _ = try await operation(connection)
                    try await connection.run("ROLLBACK TO SAVEPOINT warm", logger: logger)
                }
            }
            let before = try await connection.rows(Self.counters, as: (Int64, Int64).self, logger: logger)[0]
            _ = try await operation(connection)
            let after = try await connection.rows(Self.counters, as: (Int64, Int64).self, logger: logger)[0]
            let read = after.0 - before.0
            let scans = after.1 - before.1
            print("query plans [\(mode.rawValue)] \(what): \(read) rows read")
            #expect(read <= bound, "\(what) read \(read) rows (at most \(bound))", sourceLocation: sourceLocation)
            #expect(scans == 0, "\(what) scanned a whole table", sourceLocation: sourceLocation)
            try await connection.run("ROLLBACK", logger: logger)
        } catch {
            try? await connection.run("ROLLBACK", logger: logger)
            throw error
        }
    }
}

/// A shape of data that has misled the planner, and whose inboxes are read in it.
enum SkewedShape: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case barbershop
    case hugeBesideSmall = "huge beside small"
    case manySmall = "many small users"

    var testDescription: String { rawValue }

    var principals: [(name: String, principal: Principal)] {
        switch self {
        case .barbershop:
            [
                ("member", QueryPlanTests.principal("member-1", locations: ["shop"])),
                ("outsider", QueryPlanTests.principal("member-2")),
            ]
        case .hugeBesideSmall:
            [("huge", QueryPlanTests.principal("heavy")), ("small", QueryPlanTests.principal("small"))]
        case .manySmall:
            [("one of them", QueryPlanTests.principal("many-42"))]
        }
    }

    var seed: [String] {
        switch self {
        case .barbershop:
            [
                """
                INSERT INTO notifications (type, title, message, location_id, publisher)
                SELECT CASE WHEN g % 7 = 0 THEN 'system' ELSE 'booking' END, 't', 'm', 'shop', 'seed'
                FROM generate_series(1, 1000000) g
                """,
                """
                INSERT INTO notifications (type, title, message, user_id, publisher)
                SELECT 'system', 't', 'm', 'member-' || (g % 50), 'seed' FROM generate_series(1, 500) g
                """,
                """
                INSERT INTO notification_receipts (user_id, notification_id, audience, read_at, delivered_at)
                SELECT 'member-' || (n.id % 50), n.id, n.audience, now(), now()
                FROM notifications n WHERE n.audience = 'l:shop' AND n.id % 20 = 0
                """,
            ]
        case .hugeBesideSmall:
            [
                """
                INSERT INTO notifications (type, title, message, user_id, publisher, read_at)
                SELECT 'system', 't', 'm', 'heavy', 'seed', CASE WHEN g % 100 <> 0 THEN now() END
                FROM generate_series(1, 1000000) g
                """,
                """
                INSERT INTO notifications (type, title, message, user_id, publisher)
                SELECT 'system', 't', 'm', 'small', 'seed' FROM generate_series(1, 20) g
                """,
            ]
        case .manySmall:
            [
                """
                INSERT INTO notifications (type, title, message, user_id, publisher)
                SELECT 'booking', 't', 'm', 'many-' || (g % 5000), 'seed' FROM generate_series(1, 50000) g
                """
            ]
        }
    }
}

/// The databases of the shapes, each seeded once for both plan modes.
actor SkewedDatabases {
    static let shared = SkewedDatabases()
    private var seeded: [SkewedShape: Task<String, any Error>] = [:]

    func name(of shape: SkewedShape) async throws -> String {
        if let task = seeded[shape] { return try await task.value }
        let task = Task<String, any Error> {
            let database = try await TestCluster.shared.makeDatabase()
            try await TestCluster.withClient(database: database) { client in
                for statement in shape.seed + ["VACUUM ANALYZE notifications", "VACUUM ANALYZE notification_receipts"] {
                    try await client.run(PostgresQueryText.make(statement), logger: QueryPlanTests.logger)
                }
            }
            return database
        }
        seeded[shape] = task
        return try await task.value
    }
}
