import Foundation
import Logging
import PostgresNIO
import Vapor

/// Applies `Migrations/*.sql` in name order, each in its own transaction, and records it with a checksum.
///
/// A second run applies nothing. A file whose text changed after it was applied is refused: the database already
/// holds its old effect, and silently running a different script would leave schema and history disagreeing.
/// An advisory lock makes instances that start together migrate one at a time.
public struct MigrationStore: Sendable {
    public struct Migration: Sendable {
        public let name: String
        public let sql: String

        public init(name: String, sql: String) {
            self.name = name
            self.sql = sql
        }

        public var checksum: String {
            SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
        }
    }

    /// Arbitrary, fixed: the advisory lock key Herald's migrations hold.
    static let lockKey: Int64 = 0x4845_5241_4C44_4D47

    private let logger: Logger

    public init(logger: Logger) {
        self.logger = logger
    }

    public static func load(directory: String) throws -> [Migration] {
        let url = URL(fileURLWithPath: directory)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: url.path) else {
            throw ConfigurationError(setting: "MIGRATIONS_DIR", problem: "cannot be read from \(url.path)")
        }
        return try names.filter { $0.hasSuffix(".sql") }.sorted().map { name in
            Migration(name: name, sql: try String(contentsOf: url.appendingPathComponent(name), encoding: .utf8))
        }
    }

    /// Applies what is missing through one of `client`'s connections and returns the names it applied.
    @discardableResult
    public func migrate(_ migrations: [Migration], using client: PostgresClient) async throws -> [String] {
        try await client.withConnection { connection in try await migrate(migrations, on: connection) }
    }

    /// Applies what is missing on `connection` and returns the names it applied. `herald migrate` opens a single
    /// connection for this, so a wrong `DATABASE_URL` fails at once with PostgreSQL's reason, where a pool would
    /// keep retrying in the background.
    @discardableResult
    public func migrate(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [String] {
        try await connection.run(
            """
            CREATE TABLE IF NOT EXISTS herald_migrations (
                name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
            """, logger: logger)
        try await connection.run("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
        do {
            let applied = try await apply(migrations, on: connection)
            try await connection.run("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
            return applied
        } catch {
            try? await connection.run("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
            throw error
        }
    }

    private func apply(_ migrations: [Migration], on connection: PostgresConnection) async throws -> [String] {
        let recorded = Dictionary(
            try await connection.rows(
                "SELECT name, checksum FROM herald_migrations", as: (String, String).self, logger: logger),
            uniquingKeysWith: { first, _ in first })
        var applied: [String] = []
        for migration in migrations {
            if let checksum = recorded[migration.name] {
                guard checksum == migration.checksum else {
                    throw MigrationError(
                        message: "migration \(migration.name) changed after it was applied; add a new migration instead"
                    )
                }
                continue
            }
            try await connection.withTransaction(logger: logger) { transaction in
                for statement in SQLScript.statements(migration.sql) {
                    try await transaction.run(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await transaction.run(
                    "INSERT INTO herald_migrations (name, checksum) VALUES (\(migration.name), \(migration.checksum))",
                    logger: logger)
            }
            logger.info("applied migration", metadata: ["migration": "\(migration.name)"])
            applied.append(migration.name)
        }
        return applied
    }
}
