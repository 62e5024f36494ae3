import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A child process holding one slice of the sockets. It talks to its ``Crowd`` over stdin and stdout, one line
/// per message:
/// - out `ready <open> <failed> <micros>` once its sockets are connected;
/// - out `done <id> <lastMicros>` when every socket of the slice has received notification `id`;
/// - in `report`, out `report <deliveries>`: messages received since the last report;
/// - in `quit`: close everything and exit.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker", abstract: "(internal) hold a slice of sockets")

    @Option var host = "127.0.0.1"
    @Option var port: Int
    @Option var source: String?
    @Option var secret: String
    @Option var prefix = "bench"
    @Option var first = 0
    @Option var count: Int
    @Option var location = "bench"
    @Option var concurrency = 256
    @Option var path = "/api/v1/ws"
    @Flag(help: "Offer permessage-deflate and inflate what arrives compressed.") var deflate = false

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let loops = Array(group.makeIterator())
        let tallies = try loops.map { loop in
            NIOLoopBoundBox.makeBoxSendingValue(try Tally(inflating: deflate), eventLoop: loop)
        }
        let byLoop = Dictionary(uniqueKeysWithValues: loops.enumerated().map { (ObjectIdentifier($1), $0) })
        let mint = TokenMint(secret: secret)
        let started = Clock.micros()
        var channels: [any Channel] = []
        var failed = 0
        var next = first
        // Connect in waves of `concurrency`, so the server's accept queue is never flooded by this process.
        while next < first + count {
            let wave = (next..<min(next + concurrency, first + count)).map { index -> EventLoopFuture<any Channel> in
                let token = mint.token(sub: "\(prefix)-\(index)", locations: [location])
                return BenchSocket.connect(
                    loop: group.next(), host: host, port: port, source: source, path: "\(path)?token=\(token)",
                    deflate: deflate
                ) { loop in BenchSocket.Receiver(tally: tallies[byLoop[ObjectIdentifier(loop)]!].value) }
            }
            next += wave.count
            for future in wave {
                do { channels.append(try await future.get()) } catch { failed += 1 }
            }
        }
        Output.line("ready \(channels.count) \(failed) \(Clock.micros() - started)")

        // Report completed notifications every 2 ms: an id is done when this slice's sockets all have it.
        let expected = channels.count
        let seen = NIOLockedValueBox([Int64: (count: Int, last: Int64)]())
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(2))
                var merged: [Int64: (count: Int, lastMicros: Int64)] = [:]
                var deliveries = 0
                for tally in tallies {
                    let taken = try? await tally.eventLoop.submit { tally.value.take() }.get()
                    deliveries += taken?.deliveries ?? 0
                    for (id, entry) in taken?.received ?? [:] {
                        let old = merged[id] ?? (0, 0)
                        merged[id] = (old.count + entry.count, max(old.lastMicros, entry.lastMicros))
                    }
                }
                var lines: [String] = []
                seen.withLockedValue { seen in
                    seen[-1, default: (0, 0)].count += deliveries
                    for (id, entry) in merged {
                        let old = seen[id] ?? (0, 0)
                        let now = (old.count + entry.count, max(old.last, entry.lastMicros))
                        seen[id] = now
                        if old.count < expected && now.0 >= expected { lines.append("done \(id) \(now.1)") }
                    }
                }
                if !lines.isEmpty { Output.line(lines.joined(separator: "\n")) }
            }
        }
        while let line = readLine() {
            if line == "report" {
                let deliveries = seen.withLockedValue { seen -> Int in
                    defer { seen[-1] = (0, 0) }
                    return seen[-1]?.count ?? 0
                }
                Output.line("report \(deliveries)")
            } else if line == "quit" {
                break
            }
        }
        reporter.cancel()
        for channel in channels { channel.close(promise: nil) }
        try? await group.shutdownGracefully()
    }
}
