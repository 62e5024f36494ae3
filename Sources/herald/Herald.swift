import ArgumentParser

/// `herald serve | migrate | token` (SPEC §6).
@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Herald, a real-time notification server.",
        subcommands: [Serve.self, Migrate.self, Token.self],
        defaultSubcommand: Serve.self)
}
