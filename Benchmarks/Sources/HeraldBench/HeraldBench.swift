import ArgumentParser

/// The load client for Herald (and for the bare swift-nio baseline it ships): each scenario of issue 6 is a
/// subcommand. Sockets are spread over `worker` child processes (at most 19,000 each, under the 20,000 open-file
/// limit) and loopback source addresses 127.0.0.2, 127.0.0.3, ... so no process and no address runs out.
@main
struct HeraldBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald-bench",
        abstract: "Load scenarios against Herald or the baseline server.",
        subcommands: [
            IdleCommand.self, FanoutCommand.self, ThroughputCommand.self, LatencyCommand.self, RestCommand.self,
            SoakCommand.self, SoakWorkerCommand.self,
            BaselineCommand.self, WorkerCommand.self,
        ])
}
