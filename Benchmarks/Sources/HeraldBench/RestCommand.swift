import ArgumentParser
import Foundation

/// Scenario 5: the inbox with 1M rows, driven by wrk: a list page, the unread count and mark-read. Seed first
/// with `Benchmarks/seed.sh` (one user with a million notifications, half of them read).
struct RestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rest", abstract: "wrk against the REST inbox.")

    @OptionGroup var common: CommonOptions
    @Option var user = "rest-user"
    @Option var seconds = 10
    @Option(help: "Concurrent connections; each load is measured in turn (light load for latency, heavy for rate).")
    var connections: [Int] = [2, 32]
    @Option(help: "Highest seeded id, for mark-read targets.") var maxID: Int64 = 1_000_000

    func run() async throws {
        let mint = TokenMint(secret: common.secret)
        let token = mint.token(sub: user, locations: [])
        var figures: [String: Any] = [:]
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("herald-mark-read.lua")
        try #"""
        math.randomseed(os.time())
        request = function()
          return wrk.format("PUT", "/api/v1/notifications/" .. math.random(1, \#(maxID)) .. "/read")
        end
        """#.write(to: script, atomically: true, encoding: .utf8)
        for count in connections {
            var load: [String: Any] = [:]
            for (name, path, lua) in [
                ("list", "/api/v1/notifications?limit=50", nil),
                ("unread_count", "/api/v1/notifications/unread-count", nil),
                ("mark_read", "/", script.path),
            ] {
                var arguments = [
                    "-t2", "-c\(max(count, 2))", "-d\(seconds)s", "--latency", "-H", "Authorization: Bearer \(token)",
                ]
                if let lua { arguments += ["-s", lua] }
                arguments.append("http://127.0.0.1:\(common.port[0])\(path)")
                load[name] = Self.parse(try Self.run("/usr/bin/wrk", arguments))
            }
            figures["\(max(count, 2))_connections"] = load
        }
        try ResultWriter.write("rest", target: common.target, figures, output: common.output)
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    /// Requests per second and the latency percentiles wrk prints with `--latency`, in milliseconds.
    static func parse(_ output: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), let value = Double(parts.last ?? "") {
                result["requests_per_second"] = value
            }
            if ["50%", "90%", "99%"].contains(parts.first ?? ""), let value = parts.last.flatMap(milliseconds) {
                result["p" + parts[0].dropLast() + "_ms"] = value
            }
            if line.contains("Non-2xx or 3xx responses:"), let value = Double(parts.last ?? "") {
                result["non_2xx"] = value
            }
        }
        return result
    }

    static func milliseconds(_ text: Substring) -> Double? {
        if text.hasSuffix("us") { return Double(text.dropLast(2)).map { $0 / 1000 } }
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) }
        if text.hasSuffix("s") { return Double(text.dropLast()).map { $0 * 1000 } }
        return nil
    }
}
