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
            let client = PostgresClient(
                configuration: try DatabaseURL.configuration(try configuration.requireDatabase(), poolSize: 1),
                backgroundLogger: logger)
            let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                group.addTask {
                    await client.run()
                    return []
                }
                let applied = try await MigrationStore(client: client, logger: logger).migrate(migrations)
                group.cancelAll()
                return applied
            }
            print(applied.isEmpty ? "migrations: up to date" : "migrations: applied \(applied.joined(separator: ", "))")
        } catch let error as ConfigurationError {
            SettingFlags.fail(error)
        } catch {
            let target = configuration.databaseURL.map(DatabaseURL.target) ?? "the database"
            SettingFlags.fail("migrating \(target) failed: \(DatabaseFailure.description(of: error))")
        }
    }
}
