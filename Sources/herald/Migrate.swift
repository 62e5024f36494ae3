import ArgumentParser
import HeraldServer
import PostgresNIO

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the SQL migrations in MIGRATIONS_DIR.", discussion: "Settings:\n" + SettingFlags.help)

    @OptionGroup var settings: SettingFlags

    func run() async throws {
        let configuration = settings.configuration()
        let logger = SettingFlags.bootstrapLogging(configuration)
        do {
            let migrations = try MigrationStore.load(directory: configuration.migrationsDirectory)
            let connection = try await PostgresConnection.connect(
                configuration: try DatabaseURL.connectionConfiguration(try configuration.requireDatabase()), id: 1,
                logger: logger)
            let applied: [String]
            do {
                applied = try await MigrationStore(logger: logger).migrate(migrations, on: connection)
            } catch {
                try? await connection.close()
                throw error
            }
            try await connection.close()
            print(applied.isEmpty ? "migrations: up to date" : "migrations: applied \(applied.joined(separator: ", "))")
        } catch let error as ConfigurationError {
            SettingFlags.fail(error)
        } catch {
            let target = configuration.databaseURL.map(DatabaseURL.target) ?? "the database"
            SettingFlags.fail("migrating \(target) failed: \(DatabaseFailure.description(of: error))")
        }
    }
}
