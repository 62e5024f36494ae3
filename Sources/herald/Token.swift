import ArgumentParser
import HeraldServer

struct Token: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Mint a development token signed with JWT_SECRET.")

    @Option(help: "The user id (sub).") var sub: String
    @Option(help: "A location of the user; repeat for several.") var location: [String] = []
    @Option(help: "user, staff or admin.") var role: String = "user"
    @Option(help: "Space-separated scopes, e.g. notifications:publish.") var scope: String?
    @Option(help: "Seconds until the token expires.") var ttl: Double = 3600
    @OptionGroup var settings: SettingFlags

    func run() async throws {
        let configuration = settings.configuration()
        guard let secret = configuration.jwtSecret else {
            SettingFlags.fail(ConfigurationError(setting: "JWT_SECRET", problem: "is required to mint a token"))
        }
        guard let role = Role(rawValue: role) else {
            SettingFlags.fail(ConfigurationError(setting: "--role", problem: "must be user, staff or admin"))
        }
        guard ttl > 0 else { SettingFlags.fail(ConfigurationError(setting: "--ttl", problem: "must be positive")) }
        let minter = await TokenMinter(secret: secret)
        print(try await minter.mint(sub: sub, locations: location, role: role, scope: scope, ttl: ttl))
    }
}
