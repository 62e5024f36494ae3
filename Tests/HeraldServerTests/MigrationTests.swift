import HeraldServer
import PostgresNIO
import Testing

/// `herald migrate` applies in order, once, and refuses a file that changed after it was applied.
@Suite("Migrations")
struct MigrationTests {
    @Test("a second run is a no-op; a changed applied file is refused; a failing file leaves nothing behind")
    func migrateTwiceAndRefuseChanges() async throws {
        let database = try await TestCluster.shared.makeEmptyDatabase()
        try await TestCluster.withClient(database: database) { client in
            let store = MigrationStore(logger: TestCluster.logger)
            let migrations = try TestCluster.migrations()
            #expect(try await store.migrate(migrations, using: client) == migrations.map(\.name))
            #expect(try await store.migrate(migrations, using: client) == [])

            var changed = migrations
            changed[0] = MigrationStore.Migration(name: migrations[0].name, sql: migrations[0].sql + "\n-- edited")
            await #expect(throws: MigrationError.self) { try await store.migrate(changed, using: client) }

            let broken = MigrationStore.Migration(
                name: "9999_broken.sql", sql: "CREATE TABLE half_done (id int); SELECT no_such_function();")
            await #expect(throws: (any Error).self) { try await store.migrate(migrations + [broken], using: client) }
            var tables = 0
            for try await count in try await client.query(
                "SELECT count(*)::int FROM pg_tables WHERE tablename = 'half_done'"
            ).decode(Int.self) { tables = count }
            #expect(tables == 0)
        }
    }

    @Test("the script splitter keeps quoted and dollar-quoted semicolons")
    func splitter() {
        let statements = SQLScript.statements(
            "-- a; comment\nSELECT ';' AS x; /* b; */ CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n"
        )
        #expect(statements == ["SELECT ';' AS x", "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql"])
    }
}
