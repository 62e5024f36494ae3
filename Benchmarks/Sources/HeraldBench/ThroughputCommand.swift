import ArgumentParser
import Foundation

/// Scenario 3: sustained publishes to many sockets; messages delivered per second at the clients, and the
/// server's CPU.
struct ThroughputCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "throughput", abstract: "Sustained publishing to N sockets at one location.")

    @OptionGroup var common: CommonOptions
    @Option var sockets = 10_000
    @Option var seconds = 10.0
    @Option(help: "Concurrent publishers.") var publishers = 8
    @Option(help: "Bytes of message text in each notification.") var messageBytes = 0
    @Flag(help: "Sockets offer permessage-deflate and inflate what arrives compressed.") var deflate = false

    func run() async throws {
        let mint = TokenMint(secret: common.secret)
        let crowd = try Crowd(
            sockets: sockets, ports: common.port, secret: common.secret, location: "tp",
            options: deflate ? ["--deflate"] : [])
        let publisher = Publisher(port: common.port[0], mint: mint)
        try await Task.sleep(for: .seconds(2))
        _ = crowd.deliveries()
        let probe = common.serverPid.map(ServerProbe.init)
        let cpuBefore = probe?.cpuSeconds ?? 0
        let started = Date()
        let published = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<publishers {
                group.addTask {
                    var count = 0
                    // Each publisher waits for its notification to reach every socket before the next, so at
                    // most `publishers` are in flight: the rate measured is one the server sustains, not a
                    // backlog that grows until requests time out.
                    while Date().timeIntervalSince(started) < seconds {
                        let id = try await publisher.publish(
                            Publisher.location(
                                "tp", title: "t\(worker)-\(count)", messageBytes: messageBytes))
                        _ = await crowd.completion(of: id, timeout: 30)
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        // Let the last publishes arrive.
        try await Task.sleep(for: .seconds(2))
        let elapsed = Date().timeIntervalSince(started)
        let delivered = crowd.deliveries()
        let cpu = (probe?.cpuSeconds ?? 0) - cpuBefore
        crowd.stop()
        try ResultWriter.write(
            common.scenario ?? "throughput", target: common.target,
            [
                "sockets": crowd.openSockets, "publishes": published,
                "publishes_per_second": Double(published) / seconds,
                "delivered": delivered, "delivered_per_second": Double(delivered) / elapsed,
                "server_cpu_percent": probe == nil ? -1 : cpu / elapsed * 100,
                "message_bytes": messageBytes, "deflate": deflate,
            ], output: common.output)
    }
}
