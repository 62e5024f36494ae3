import Foundation
import HeraldTestSupport
import Logging
import PostgresNIO

@testable import HeraldServer

/// The PostgreSQL cluster `make test` starts. Each test gets its own database, copied from a template that the
/// real migrations built, so tests run in parallel without seeing each other's broadcasts.
actor TestCluster {
    static let shared = TestCluster()

    private var template: Task<String, any Error>?
    private var counter = 0

    /// The admin URL, e.g. postgres://herald@127.0.0.1:5433/postgres.
    static var adminURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["HERALD_TEST_DATABASE_URL"] else {
                throw TestSetupError("HERALD_TEST_DATABASE_URL is not set: run the tests with `make test`")
            }
            return url
        }
    }

    /// Warnings and worse on stderr, through the same redaction as `herald serve`, so no token reaches the log
    /// of a test run either.
    static var logger: Logger {
        Logger(label: "herald-test") { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return RedactingLogHandler(handler)
        }
    }

    /// The test cluster's port.
    static var port: Int {
        get throws { URLComponents(string: try adminURL)?.port ?? 5432 }
    }

    /// The URL of `database` on the test cluster.
    static func url(database: String) throws -> String {
        var components = URLComponents(string: try adminURL)!
        components.path = "/" + database
        return components.string!
    }

    /// Runs `body` with a client for `database`, then closes it.
    static func withClient<T: Sendable>(
        database: String, _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(
            configuration: try DatabaseURL.configuration(try url(database: database), poolSize: 2),
            backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            let result = try await body(client)
            group.cancelAll()
            return result
        }
    }

    static func migrations() throws -> [MigrationStore.Migration] {
        try MigrationStore.load(directory: packageRoot.appendingPathComponent("Migrations").path)
    }

    static let packageRoot = PackageRoot.url

    /// A new, migrated, empty database; returns its name.
    func makeDatabase() async throws -> String {
        let template = try await templateName()
        counter += 1
        let name = "herald_t_\(getpid())_\(counter)"
        try await Self.withClient(database: "postgres") { client in
            try await client.run(
                PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template)"), logger: Self.logger)
        }
        return name
    }

    /// A new database with nothing in it, not even the migrations.
    func makeEmptyDatabase() async throws -> String {
        counter += 1
        let name = "herald_t_\(getpid())_\(counter)"
        try await Self.withClient(database: "postgres") { client in
            try await client.run(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Self.logger)
        }
        return name
    }

    private func templateName() async throws -> String {
        if let template { return try await template.value }
        let task = Task<String, any Error> {
            let name = "herald_template_\(getpid())"
            try await Self.withClient(database: "postgres") { client in
                try await Self.dropDatabasesOfFinishedRuns(client)
                try await client.run(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: Self.logger)
            }
            try await Self.withClient(database: name) { client in
                try await MigrationStore(logger: Self.logger).migrate(try Self.migrations(), using: client)
            }
            return name
        }
        template = task
        return try await task.value
    }
}

extension TestCluster {
    /// Drops the databases of test runs whose process has ended. Every test gets a database of its own and nothing
    /// drops it when the test ends, since a test that fails or crashes would leave it anyway; without this sweep a
    /// developer's cluster under `.data/` gained about seventy databases per `make test`. A run still going (one
    /// started beside this one, on the same machine) keeps its databases: its process is alive.
    fileprivate static func dropDatabasesOfFinishedRuns(_ client: PostgresClient) async throws {
        let rows = try await client.query(
            "SELECT datname FROM pg_database WHERE datname ~ '^herald_(t|template)_[0-9]+(_[0-9]+)?$'")
        var names: [String] = []
        for try await name in rows.decode(String.self) { names.append(name) }
        for name in names {
            let parts = name.split(separator: "_")
            guard let pid = Int32(parts[2]), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            try await client.run(
                PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"), logger: Self.logger)
        }
    }
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
