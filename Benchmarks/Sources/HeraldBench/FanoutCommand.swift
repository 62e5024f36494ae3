import ArgumentParser
import Foundation

/// Scenario 2 (and 6, with several `--port`s): N sockets at one location; one location notification through REST,
/// timed from the request to the last socket's receipt. Repeated for p50, p99 and max.
struct FanoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout", abstract: "Time one publish to N sockets, repeatedly.")

    @OptionGroup var common: CommonOptions
    @Option var sockets = 10_000
    @Option var rounds = 50
    @Option(help: "location or broadcast") var audience = "location"

    func run() async throws {
        let mint = TokenMint(secret: common.secret)
        let crowd = try Crowd(sockets: sockets, ports: common.port, secret: common.secret, location: "fan")
        let publisher = Publisher(port: common.port[0], mint: mint)
        try await Task.sleep(for: .seconds(2))
        var latencies: [Double] = []
        var missing = 0
        for round in 0..<rounds {
            let body =
                audience == "broadcast"
                ? #"{"broadcast":true,"type":"system","title":"b\#(round)","message":"benchmark"}"#
                : Publisher.location("fan", title: "f\(round)")
            let started = Clock.micros()
            let id = try await publisher.publish(body)
            if let last = await crowd.completion(of: id) {
                latencies.append(Double(last - started) / 1000)
            } else {
                missing += 1
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        crowd.stop()
        let stats = Stats(latencies)
        try ResultWriter.write(
            audience == "broadcast" ? "fanout-broadcast" : "fanout", target: common.target,
            [
                "sockets": crowd.openSockets, "failed": crowd.failedSockets, "instances": common.port.count,
                "rounds": rounds, "incomplete_rounds": missing, "p50_ms": stats.percentile(50),
                "p99_ms": stats.percentile(99), "max_ms": stats.maximum, "connect_seconds": crowd.connectSeconds,
            ], output: common.output)
    }
}
