import ArgumentParser
import NIOCore
import NIOPosix

/// `herald serve | migrate | token`.
@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Herald, a real-time notification server.",
        subcommands: [Serve.self, Migrate.self, Token.self],
        defaultSubcommand: Serve.self)

    /// Runs Swift Concurrency's jobs on NIO's event loops, the threads that already own the sockets and the
    /// database connections. Without it every `await` on a query or a response hops between the cooperative pool
    /// and a loop; on two cores those hops (futex wake-ups, context switches) were most of a publish's CPU. The
    /// executor has to be installed before the first task exists, so this replaces ArgumentParser's entry point.
    static func main() async {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(withError: error)
        }
    }
}
