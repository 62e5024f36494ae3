import ArgumentParser
import Foundation
import NIOConcurrencyHelpers

/// Scenario 4: one recipient, publishes at a fixed rate (open loop), with durable commits; percentiles of
/// publish-to-receipt latency.
struct LatencyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "latency", abstract: "Publish-to-receipt latency at a fixed rate.")

    @OptionGroup var common: CommonOptions
    @Option var rate = 1000.0
    @Option var seconds = 10.0
    @Option(help: "Beside the measured publishes, one publish to this many users each second (0: none).")
    var bulkUsers = 0
    @Option(help: "Bytes of data in each bulk publish.") var bulkDataBytes = 30_000

    func run() async throws {
        let mint = TokenMint(secret: common.secret)
        let crowd = try Crowd(sockets: 1, ports: common.port, secret: common.secret, location: "lat", prefix: "lat")
        let publisher = Publisher(port: common.port[0], mint: mint)
        try await Task.sleep(for: .seconds(1))
        let latencies = NIOLockedValueBox<[Double]>([])
        let failures = NIOLockedValueBox(0)
        let interval = 1.0 / rate
        let probe = common.serverPid.map(ServerProbe.init)
        let cpuBefore = probe?.cpuSeconds ?? 0
        let started = Date()
        let bulkLatencies = NIOLockedValueBox<[Double]>([])
        let published = try await withThrowingTaskGroup(of: Void.self) { group in
            if bulkUsers > 0 {
                // A large publish a second, as a batch job would send, to users who have no socket here.
                let users = (0..<bulkUsers).map { "\"bulk-\($0)\"" }.joined(separator: ",")
                let pad = String(repeating: "b", count: bulkDataBytes)
                let body =
                    #"{"user_ids":[\#(users)],"type":"system","title":"bulk","message":"m","data":{"pad":"\#(pad)"}}"#
                group.addTask {
                    while Date().timeIntervalSince(started) < seconds {
                        let sent = Clock.micros()
                        _ = try? await publisher.publish(body)
                        bulkLatencies.withLockedValue { $0.append(Double(Clock.micros() - sent) / 1000) }
                        try await Task.sleep(for: .seconds(1))
                    }
                }
            }
            var n = 0
            // Open loop: request n starts at n × interval whatever the earlier ones are doing.
            while Date().timeIntervalSince(started) < seconds {
                let due = started.addingTimeInterval(Double(n) * interval)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { try await Task.sleep(for: .nanoseconds(Int64(wait * 1e9))) }
                let title = "l\(n)"
                group.addTask {
                    let sent = Clock.micros()
                    do {
                        let id = try await publisher.publish(
                            #"{"user_id":"lat-0","type":"system","title":"\#(title)","message":"benchmark"}"#)
                        if let last = await crowd.completion(of: id, timeout: 10) {
                            latencies.withLockedValue { $0.append(Double(last - sent) / 1000) }
                        } else {
                            failures.withLockedValue { $0 += 1 }
                        }
                    } catch {
                        failures.withLockedValue { $0 += 1 }
                    }
                }
                n += 1
            }
            try await group.waitForAll()
            return n
        }
        // The server's CPU over the publishing (and the bulk publishes, if any): the Herald share of a publish,
        // steadier than its latency, which the client and PostgreSQL on the same cores share.
        let cpuForPublishes = (probe?.cpuSeconds ?? 0) - cpuBefore
        crowd.stop()
        let stats = Stats(latencies.withLockedValue { $0 })
        var figures: [String: Any] = [
            "rate": rate, "seconds": seconds, "received": stats.sorted.count,
            "failed": failures.withLockedValue { $0 }, "p50_ms": stats.percentile(50),
            "p99_ms": stats.percentile(99), "p999_ms": stats.percentile(99.9), "max_ms": stats.maximum,
        ]
        if probe != nil { figures["server_cpu_ms_per_publish"] = cpuForPublishes * 1000 / Double(max(published, 1)) }
        if bulkUsers > 0 {
            let bulk = Stats(bulkLatencies.withLockedValue { $0 })
            figures["bulk"] = [
                "users": bulkUsers, "data_bytes": bulkDataBytes, "publishes": bulk.sorted.count,
                "p50_ms": bulk.percentile(50), "max_ms": bulk.maximum,
            ]
        }
        try ResultWriter.write(common.scenario ?? "latency", target: common.target, figures, output: common.output)
    }
}
