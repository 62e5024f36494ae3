import ArgumentParser
import Foundation
import NIOConcurrencyHelpers

/// The soak (not run in CI): sockets that churn, a steady mix of personal, location and broadcast publishes, and
/// the server's memory sampled throughout. At the end every socket's ids are checked against what was published:
/// nothing lost (gapless, across reconnects with `since`), nothing twice, nothing meant for someone else.
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak", abstract: "Minutes of churn and mixed publishing; memory growth, losses, duplicates.")

    @OptionGroup var common: CommonOptions
    @Option var sockets = 10_000
    @Option var minutes = 10.0
    @Option(help: "Publishes per second, open loop.") var rate = 500.0
    @Option(help: "Share of the sockets reconnected each minute, half of them with since.") var churn = 0.05
    @Option var locations = 100
    @Option(help: "Share of the publishes that go to a location; one a second is a broadcast, the rest personal.")
    var locationShare = 0.1

    func run() async throws {
        let crowd = try Crowd(
            sockets: sockets, ports: common.port, secret: common.secret, location: "s", prefix: "soak",
            command: "soak-worker", options: ["--locations", "\(locations)"])
        let publisher = Publisher(port: common.port[0], mint: TokenMint(secret: common.secret))
        let probe = common.serverPid.map(ServerProbe.init)
        let published = NIOLockedValueBox<[String]>([])
        let failures = NIOLockedValueBox(0)
        let seconds = minutes * 60
        let started = Date()
        let cpuBefore = probe?.cpuSeconds ?? 0
        var samples: [(seconds: Int, kilobytes: Int)] = []
        let churns = NIOLockedValueBox<[[String]]>([])
        // Churn on a thread of its own: `ask` waits for every worker to reconnect, and publishing must go on.
        let share = churn
        Thread.detachNewThread {
            for minute in 1..<Int(seconds / 60) {
                Thread.sleep(until: started.addingTimeInterval(Double(minute) * 60))
                let answers = crowd.ask("churn \(share)", answer: "churned")
                churns.withLockedValue { $0 += answers }
            }
        }
        try await withThrowingDiscardingTaskGroup { group in
            var n = 0
            var nextSample = 0.0
            while Date().timeIntervalSince(started) < seconds {
                let elapsed = Date().timeIntervalSince(started)
                if elapsed >= nextSample, let probe {
                    samples.append((Int(elapsed.rounded()), probe.residentKilobytes))
                    nextSample += 10
                }
                let due = started.addingTimeInterval(Double(n) / rate)
                let wait = due.timeIntervalSinceNow
                if wait > 0 { try await Task.sleep(for: .nanoseconds(Int64(wait * 1e9))) }
                let (body, audience) = publication(n)
                group.addTask {
                    do {
                        let id = try await publisher.publish(body)
                        published.withLockedValue { $0.append("\(id) \(audience)") }
                    } catch {
                        failures.withLockedValue { $0 += 1 }
                    }
                }
                n += 1
            }
        }
        if let probe { samples.append((Int(Date().timeIntervalSince(started).rounded()), probe.residentKilobytes)) }
        let churned = churns.withLockedValue { $0.compactMap { Int($0.first ?? "") }.reduce(0, +) }
        let churnFailures = churns.withLockedValue { $0.compactMap { $0.count > 1 ? Int($0[1]) : nil }.reduce(0, +) }
        let elapsed = Date().timeIntervalSince(started)
        let cpu = (probe?.cpuSeconds ?? 0) - cpuBefore
        // Let the last publishes arrive, then compare.
        try await Task.sleep(for: .seconds(5))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("herald-soak-\(getpid()).txt")
        try Data(published.withLockedValue { $0.joined(separator: "\n") }.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let verdicts = crowd.ask("verify \(file.path)", answer: "verified")
        func total(_ column: Int) -> Int { verdicts.compactMap { Int($0[column]) }.reduce(0, +) }
        crowd.stop()
        // Growth from minute 2 (after the connect storm and the first churn settle) to the end.
        let fromMinuteTwo = samples.first { $0.seconds >= 120 }?.kilobytes ?? samples.first?.kilobytes ?? 0
        let last = samples.last?.kilobytes ?? 0
        try ResultWriter.write(
            "soak", target: common.target,
            [
                "sockets": crowd.openSockets, "failed_connects": crowd.failedSockets, "minutes": minutes,
                "rate": rate, "publishes": published.withLockedValue { $0.count },
                "publish_failures": failures.withLockedValue { $0 }, "reconnected": churned,
                "failed_reconnects": churnFailures, "checked_deliveries": total(0), "lost": total(1),
                "duplicates": total(2), "foreign": total(3), "resets": total(4),
                "server_cpu_percent": cpu / elapsed * 100,
                "rss_kb": samples.map { [$0.seconds, $0.kilobytes] },
                "rss_growth_percent_from_minute_2":
                    fromMinuteTwo == 0 ? 0 : Double(last - fromMinuteTwo) / Double(fromMinuteTwo) * 100,
            ], output: common.output)
    }

    /// The `n`th publish: a broadcast once a second, `locationShare` to a random location, the rest to a random
    /// user; with its audience as the workers' `verify` reads it.
    private func publication(_ n: Int) -> (body: String, audience: String) {
        let tail = #""type":"system","title":"s\#(n)","message":"soak""#
        if n % max(1, Int(rate)) == 0 { return (#"{"broadcast":true,\#(tail)}"#, "b 0") }
        if Double.random(in: 0..<1) < locationShare {
            let location = Int.random(in: 0..<locations)
            return (#"{"location_id":"s\#(location)",\#(tail)}"#, "l \(location)")
        }
        let user = Int.random(in: 0..<sockets)
        return (#"{"user_id":"soak-\#(user)",\#(tail)}"#, "u \(user)")
    }
}
