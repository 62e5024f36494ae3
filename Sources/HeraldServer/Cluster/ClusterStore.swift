import Foundation
import Logging
import PostgresNIO

/// The SQL of what instances share about sockets (Migrations/0005): each instance's lease, every live socket, and
/// what they add up to. A socket counts while the instance holding it holds its lease.
public struct ClusterStore: Sendable {
    /// The advisory lock class of "a user's sockets", the other half of the key being the user id's hash.
    static let userLockClass: Int32 = 0x4852_4C44

    /// A socket as the sessions API and the limit see it.
    public struct Session: Sendable, Equatable {
        public var sessionID: UUID
        public var incarnation: UUID
        public var localID: UInt64
        public var userID: String
        public var instanceID: String
        public var locations: [String]
        public var connectedAt: Date
        public var clientAddress: String?
        public var userAgent: String?
    }

    /// A socket to record: opened here, not yet written.
    public struct Opened: Sendable, Equatable {
        public var sessionID: UUID
        public var localID: UInt64
        public var userID: String
        public var locations: [String]
        public var connectedAt: Date
        public var clientAddress: String?
        public var userAgent: String?
    }

    /// A socket some instance must close, and where it lives.
    public struct Placement: Sendable, Equatable, Hashable {
        public var sessionID: UUID
        public var incarnation: UUID
        public var localID: UInt64
    }

    /// An instance that holds its lease, for `/ws/status`.
    public struct Instance: Sendable, Equatable {
        public var incarnation: UUID
        public var instanceID: String
        public var startedAt: Date
        public var seenAt: Date
        public var connections: Int
        public var listening: Bool
    }

    /// The whole cluster's sockets, in 6FB's status shape.
    public struct Totals: Sendable, Equatable {
        public var users = 0
        public var connections = 0
        public var byLocation: [String: Int] = [:]
    }

    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    // MARK: Leases

    /// Takes or renews `incarnation`'s lease for `lease` seconds, with its current counts. Returns whether it had
    /// lapsed: no lease yet, or one that ran out (the process was paused, or the database out of reach, for longer
    /// than the lease), in which case the other instances stopped counting its sockets and may have forgotten them.
    func renew(
        _ incarnation: UUID, instanceID: String, version: String, startedAt: Date, lease: Double, connections: Int,
        listening: Bool
    ) async throws -> Bool {
        try await client.value(
            """
            WITH previous AS (
                SELECT lease_until > now() AS held FROM herald_instances WHERE incarnation = \(incarnation)
            ), renewed AS (
                INSERT INTO herald_instances AS i
                    (incarnation, instance_id, version, started_at, seen_at, lease_until, connections, listening)
                VALUES (\(incarnation), \(instanceID), \(version), \(startedAt), now(),
                        now() + make_interval(secs => \(lease)), \(connections), \(listening))
                ON CONFLICT (incarnation) DO UPDATE
                SET seen_at = now(), lease_until = excluded.lease_until, connections = excluded.connections,
                    listening = excluded.listening
                RETURNING 1
            )
            SELECT NOT coalesce((SELECT held FROM previous), false) FROM renewed
            """, as: Bool.self, logger: logger) ?? true
    }

    /// Forgets instances whose lease ran out more than a minute ago, and their sockets; returns how many went.
    func sweepDeadInstances() async throws -> Int {
        try await client.value(
            """
            WITH dead AS (
                DELETE FROM herald_instances WHERE lease_until < now() - interval '1 minute' RETURNING incarnation
            ), sockets AS (
                DELETE FROM ws_sessions WHERE incarnation IN (SELECT incarnation FROM dead) RETURNING 1
            )
            SELECT count(*) FROM dead
            """, as: Int.self, logger: logger) ?? 0
    }

    /// Removes this incarnation and its sockets (a clean shutdown).
    func leave(_ incarnation: UUID) async throws {
        try await client.run(
            """
            WITH sockets AS (DELETE FROM ws_sessions WHERE incarnation = \(incarnation) RETURNING 1)
            DELETE FROM herald_instances WHERE incarnation = \(incarnation)
            """, logger: logger)
    }

    /// The instances holding their lease.
    func instances() async throws -> [Instance] {
        try await client.rows(
            """
            SELECT incarnation, instance_id, started_at, seen_at, connections, listening FROM herald_instances
            WHERE lease_until > now() ORDER BY instance_id, started_at
            """, as: (UUID, String, Date, Date, Int, Bool).self, logger: logger
        ).map {
            Instance(
                incarnation: $0.0, instanceID: $0.1, startedAt: $0.2, seenAt: $0.3, connections: $0.4, listening: $0.5)
        }
    }

    // MARK: Sockets

    /// Writes what opened and forgets what closed, then decides, for every user with a new socket (and every user
    /// in `recheck`), which of their sockets anywhere go past `limit`: the oldest ones for `evict_oldest`, the
    /// newest for `reject`. Those are deleted here and returned, to be closed where they live; NOTIFY tells the
    /// other instances in the same transaction.
    ///
    /// Each user's sockets are counted under an advisory lock on that user, taken in key order before the count,
    /// so two instances recording the same user's sockets at once count one after the other.
    func record(
        opened: [Opened], closed: [UUID], recheck: [String], as incarnation: UUID, limit: Int,
        policy: HeraldConfiguration.LimitPolicy
    ) async throws -> [Placement] {
        let logger = logger
        let users = Array(Set(opened.map(\.userID) + recheck))
        return try await client.withTransaction(logger: logger) { connection in
            if !closed.isEmpty {
                try await connection.run("DELETE FROM ws_sessions WHERE session_id = ANY(\(closed))", logger: logger)
            }
            guard !users.isEmpty else { return [] }
            try await connection.run(
                """
                SELECT pg_advisory_xact_lock(\(Self.userLockClass), k.key)
                FROM (SELECT DISTINCT hashtext(u) AS key FROM unnest(\(users)::text[]) AS u ORDER BY 1) k
                """, logger: logger)
            if !opened.isEmpty {
                // One row per socket; a socket's locations travel as JSON, since arrays of arrays are not a type.
                var locations = JSONWriter()
                locations.beginArray()
                for session in opened { locations.strings(session.locations) }
                locations.endArray()
                try await connection.run(
                    """
                    INSERT INTO ws_sessions (session_id, incarnation, local_id, user_id, locations, connected_at,
                                             client_address, user_agent)
                    SELECT o.session_id, \(incarnation), o.local_id, o.user_id,
                           ARRAY(SELECT jsonb_array_elements_text(l.value)), o.connected_at,
                           nullif(o.client_address, ''), nullif(o.user_agent, '')
                    FROM unnest(\(opened.map(\.sessionID))::uuid[], \(opened.map { Int64(bitPattern: $0.localID) })::bigint[],
                                \(opened.map(\.userID))::text[], \(opened.map(\.connectedAt))::timestamptz[],
                                \(opened.map { $0.clientAddress ?? "" })::text[], \(opened.map { $0.userAgent ?? "" })::text[])
                         WITH ORDINALITY AS o(session_id, local_id, user_id, connected_at, client_address, user_agent, n)
                    JOIN jsonb_array_elements(\(locations.string)::jsonb) WITH ORDINALITY AS l(value, n) ON l.n = o.n
                    ON CONFLICT (session_id) DO UPDATE SET locations = excluded.locations
                    """, logger: logger)
            }
            let order = policy == .evictOldest ? "DESC" : "ASC"
            let over = try await connection.rows(
                """
                WITH ranked AS (
                    SELECT s.session_id, s.incarnation, s.local_id,
                           row_number() OVER (PARTITION BY s.user_id
                                              ORDER BY s.connected_at \(unescaped: order), s.session_id \(unescaped: order)) AS rank
                    FROM ws_sessions s
                    JOIN herald_instances i ON i.incarnation = s.incarnation AND i.lease_until > now()
                    WHERE s.user_id = ANY(\(users)::text[])
                ), gone AS (
                    DELETE FROM ws_sessions WHERE session_id IN (SELECT session_id FROM ranked WHERE rank > \(limit))
                    RETURNING session_id, incarnation, local_id
                )
                SELECT session_id, incarnation, local_id FROM gone
                """, as: (UUID, UUID, Int64).self, logger: logger
            ).map { Placement(sessionID: $0.0, incarnation: $0.1, localID: UInt64(bitPattern: $0.2)) }
            // The other instances close theirs when this commits.
            let code =
                policy == .evictOldest ? HeraldError.replaced("").closeCode : HeraldError.tooManyRequests("").closeCode
            for (elsewhere, placements) in Dictionary(
                grouping: over.filter { $0.incarnation != incarnation }, by: \.incarnation)
            {
                let order = SocketCloseOrder(
                    target: .sockets(incarnation: elsewhere, localIDs: placements.map(\.localID)),
                    code: UInt16(webSocketErrorCode: code),
                    reason: policy == .evictOldest ? "replaced by a newer session" : "connection limit reached")
                try await connection.run(
                    "SELECT pg_notify(\(FanoutMessage.channel), \(FanoutMessage.closeSockets(order).payload))",
                    logger: logger)
            }
            return over
        }
    }

    /// Live sockets, of one user and/or at one location (at least one must be given).
    func sessions(userID: String?, locationID: String?) async throws -> [Session] {
        try await client.rows(
            """
            SELECT s.session_id, s.incarnation, s.local_id, s.user_id, i.instance_id, s.locations, s.connected_at,
                   s.client_address, s.user_agent
            FROM ws_sessions s
            JOIN herald_instances i ON i.incarnation = s.incarnation AND i.lease_until > now()
            WHERE (\(userID)::text IS NULL OR s.user_id = \(userID))
              AND (\(locationID)::text IS NULL OR s.locations @> ARRAY[\(locationID)::text])
            ORDER BY s.user_id, s.connected_at
            LIMIT 10000
            """, logger: logger, decode: Self.session(_:))
    }

    /// One live socket by its id.
    func session(_ sessionID: UUID) async throws -> Session? {
        try await client.rows(
            """
            SELECT s.session_id, s.incarnation, s.local_id, s.user_id, i.instance_id, s.locations, s.connected_at,
                   s.client_address, s.user_agent
            FROM ws_sessions s
            JOIN herald_instances i ON i.incarnation = s.incarnation AND i.lease_until > now()
            WHERE s.session_id = \(sessionID)
            """, logger: logger, decode: Self.session(_:)
        ).first
    }

    private static func session(_ row: PostgresRow) throws -> Session {
        let (sessionID, incarnation, localID, userID, instanceID, locations, connectedAt, address, agent) =
            try row.decode((UUID, UUID, Int64, String, String, [String], Date, String?, String?).self)
        return Session(
            sessionID: sessionID, incarnation: incarnation, localID: UInt64(bitPattern: localID), userID: userID,
            instanceID: instanceID, locations: locations, connectedAt: connectedAt, clientAddress: address,
            userAgent: agent)
    }

    /// The users with a live socket at `locationID`: how many sockets each, and since when.
    func presence(at locationID: String) async throws -> [(userID: String, sockets: Int, since: Date)] {
        try await client.rows(
            """
            SELECT s.user_id, count(*), min(s.connected_at)
            FROM ws_sessions s
            JOIN herald_instances i ON i.incarnation = s.incarnation AND i.lease_until > now()
            WHERE s.locations @> ARRAY[\(locationID)::text]
            GROUP BY s.user_id ORDER BY s.user_id
            """, as: (String, Int, Date).self, logger: logger
        ).map { (userID: $0.0, sockets: $0.1, since: $0.2) }
    }

    /// Every live socket, counted: distinct users, sockets, and sockets per location.
    func totals() async throws -> Totals {
        var totals = Totals()
        for (users, sockets) in try await client.rows(
            """
            SELECT count(DISTINCT s.user_id), count(*)
            FROM ws_sessions s JOIN herald_instances i ON i.incarnation = s.incarnation AND i.lease_until > now()
            """, as: (Int, Int).self, logger: logger)
        {
            totals.users = users
            totals.connections = sockets
        }
        for (location, sockets) in try await client.rows(
            """
            SELECT l.location, count(*)
            FROM ws_sessions s JOIN herald_instances i ON i.incarnation = s.incarnation AND i.lease_until > now()
            CROSS JOIN LATERAL unnest(s.locations) AS l(location)
            GROUP BY l.location
            """, as: (String, Int).self, logger: logger)
        {
            totals.byLocation[location] = sockets
        }
        return totals
    }
}
