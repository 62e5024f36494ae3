import ArgumentParser
import Foundation
import NIOCore
import NIOPosix

/// A soak child process: holds a slice of sockets, each its own user at one of `locations` locations, and keeps
/// every id each socket receives. Besides ``WorkerCommand``'s `ready` and `quit` it answers:
/// - in `churn <fraction>`: closes that share of its sockets and reconnects them, half with `since` (the last id
///   the socket had) and half without; out `churned <reconnected> <failed>`;
/// - in `verify <file>`: closes every socket and checks each one's ids against the published ones in `file`
///   (`<id> u|l|b <user or location index>` per line); out `verified <checked> <lost> <duplicates> <foreign> <resets>`.
struct SoakWorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak-worker", abstract: "(internal) hold a slice of soak sockets")

    @Option var host = "127.0.0.1"
    @Option var port: Int
    @Option var source: String?
    @Option var secret: String
    @Option var prefix = "soak"
    @Option var first = 0
    @Option var count: Int
    @Option var location = "s"
    @Option var locations = 100
    @Option var concurrency = 256
    @Option var path = "/api/v1/ws"

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let slots = (first..<first + count).map {
            SoakSlot(index: $0, prefix: prefix, locations: locations, loop: group.next())
        }
        let started = Clock.micros()
        let failed = await connect(slots, resume: false)
        Output.line("ready \(count - failed) \(failed) \(Clock.micros() - started)")
        while let line = readLine() {
            let words = line.split(separator: " ").map(String.init)
            switch words.first {
            case "churn":
                let share = Double(words.dropFirst().first ?? "") ?? 0
                let chosen = Array(slots.shuffled().prefix(Int((Double(slots.count) * share).rounded())))
                for slot in chosen { try? await slot.channel?.close().get() }
                let half = chosen.count / 2
                let failedWith = await connect(Array(chosen[..<half]), resume: true)
                let failedWithout = await connect(Array(chosen[half...]), resume: false)
                Output.line("churned \(chosen.count) \(failedWith + failedWithout)")
            case "verify":
                for slot in slots { try? await slot.channel?.close().get() }
                Output.line("verified " + verify(slots, published: words.dropFirst().first ?? ""))
            case "quit":
                try? await group.shutdownGracefully()
                return
            default:
                break
            }
        }
    }

    /// Connects `slots` in waves of `concurrency`; with `resume`, each from the last id it received. Returns how
    /// many failed.
    private func connect(_ slots: [SoakSlot], resume: Bool) async -> Int {
        let mint = TokenMint(secret: secret)
        var failed = 0
        var next = 0
        while next < slots.count {
            let wave = slots[next..<min(next + concurrency, slots.count)]
            let futures = wave.map { slot -> EventLoopFuture<any Channel> in
                let token = mint.token(sub: slot.user, locations: ["\(location)\(slot.locationIndex)"])
                var target = "\(path)?token=\(token)"
                if resume, let last = slot.received.last {
                    target += "&since=\(last)"
                    slot.reconnects.append((last, true))
                } else if !slot.received.isEmpty {
                    slot.forgetUntilNextID()
                    slot.reconnects.append((slot.received.last ?? 0, false))
                }
                return BenchSocket.connect(loop: slot.loop, host: host, port: port, source: source, path: target) {
                    _ in
                    BenchSocket.Receiver(
                        record: { slot.record($0) },
                        closed: { slot.serverCloses.append(($0, slot.received.last ?? 0)) },
                        reset: {
                            slot.resets += 1
                            slot.forgetUntilNextID()
                        })
                }
            }
            for (slot, future) in zip(wave, futures) {
                do { slot.channel = try await future.get() } catch { failed += 1 }
            }
            next += wave.count
        }
        return failed
    }

    /// Compares what each socket received with what was published to it.
    private func verify(_ slots: [SoakSlot], published path: String) -> String {
        var byUser: [Int: [Int64]] = [:]
        var byLocation: [Int: [Int64]] = [:]
        var broadcast: [Int64] = []
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 3, let id = Int64(fields[0]), let target = Int(fields[2]) else { continue }
            switch fields[1] {
            case "u": byUser[target, default: []].append(id)
            case "l": byLocation[target, default: []].append(id)
            default: broadcast.append(id)
            }
        }
        var checked = 0
        var lost = 0
        var duplicates = 0
        var foreign = 0
        let closedByServer = slots.filter { !$0.serverCloses.isEmpty }
        if !closedByServer.isEmpty {
            let codes = closedByServer.flatMap { $0.serverCloses.map(\.code) }
            FileHandle.standardError.write(
                Data("\(closedByServer.count) sockets closed by the server, codes \(Set(codes).sorted())\n".utf8))
        }
        for slot in slots {
            let expected = Set(broadcast + (byUser[slot.index] ?? []) + (byLocation[slot.locationIndex] ?? []))
            let received = Set(slot.received)
            duplicates += slot.received.count - received.count
            foreign += received.subtracting(expected).count
            for id in expected where slot.isChecked(id) {
                checked += 1
                guard !received.contains(id) else { continue }
                lost += 1
                // The first few losses in detail, on stderr (the bench's log): enough to tell a pattern.
                if lost <= 20 {
                    let before = slot.received.last { $0 < id } ?? 0
                    let after = slot.received.first { $0 > id } ?? 0
                    let kind = broadcast.contains(id) ? "b" : (byUser[slot.index]?.contains(id) == true ? "u" : "l")
                    FileHandle.standardError.write(
                        Data(
                            ("lost \(id) (\(kind)) at \(slot.user): received \(before) before, \(after) after; "
                                + "reconnects \(slot.reconnects), server closes \(slot.serverCloses)\n").utf8))
                }
            }
        }
        return "\(checked) \(lost) \(duplicates) \(foreign) \(slots.map(\.resets).reduce(0, +))"
    }
}
