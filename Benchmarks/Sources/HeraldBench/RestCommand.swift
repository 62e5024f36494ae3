import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The REST inbox driven by wrk: a list page, the unread page, the unread count and mark-read, at each load in
/// turn, each after a warm-up of at least 100 requests per connection (so prepared statements have passed the
/// point where PostgreSQL may switch to their generic plans). Then read-all and clear, timed one at a time with a
/// fresh notification published before each. Seed first (`bench.sh rest` and `rest-skewed` do).
struct RestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rest", abstract: "wrk against the REST inbox.")

    @OptionGroup var common: CommonOptions
    @Option var user = "rest-user"
    @Option(help: "A location of the user; repeat for several.") var location: [String] = []
    @Option var seconds = 10
    @Option(help: "Concurrent connections; each load is measured in turn (light load for latency, heavy for rate).")
    var connections: [Int] = [2, 32]
    @Option(help: "Highest seeded id, for mark-read targets.") var maxID: Int64 = 1_000_000
    @Option(help: "The user's seeded inbox size, recorded for the sweep by inbox size.") var inboxSize: Int?
    @Option(help: "Rounds of read-all and of clear, each after a fresh publish.") var bulkRounds = 30

    func run() async throws {
        let mint = TokenMint(secret: common.secret)
        let token = mint.token(sub: user, locations: location)
        var figures: [String: Any] = ["user": user, "locations": location]
        if let inboxSize { figures["inbox_size"] = inboxSize }
        let folder = FileManager.default.temporaryDirectory
        let markRead = folder.appendingPathComponent("herald-mark-read.lua")
        try #"""
        math.randomseed(os.time())
        request = function()
          return wrk.format("PUT", "/api/v1/notifications/" .. math.random(1, \#(maxID)) .. "/read")
        end
        """#.write(to: markRead, atomically: true, encoding: .utf8)
        let base = "http://127.0.0.1:\(common.port[0])"
        for count in connections.map({ max($0, 2) }) {
            var load: [String: Any] = [:]
            for (name, path, lua) in [
                ("list", "/api/v1/notifications?limit=50", nil),
                ("unread_page", "/api/v1/notifications/unread?limit=50", nil),
                ("unread_count", "/api/v1/notifications/unread-count", nil),
                ("mark_read", "/", markRead.path),
            ] {
                let warm = folder.appendingPathComponent("herald-warm-up.lua")
                try Self.warmUp(connectionsPerThread: (count + 1) / 2, then: lua)
                    .write(to: warm, atomically: true, encoding: .utf8)
                let headers = ["-H", "Authorization: Bearer \(token)"]
                _ = try Self.run(
                    "/usr/bin/wrk", ["-t2", "-c\(count)", "-d60s", "-s", warm.path] + headers + [base + path])
                var arguments = ["-t2", "-c\(count)", "-d\(seconds)s", "--latency"] + headers
                if let lua { arguments += ["-s", lua] }
                arguments.append(base + path)
                load[name] = Self.parse(try Self.run("/usr/bin/wrk", arguments))
            }
            figures["\(count)_connections"] = load
        }
        figures["bulk"] = try await bulkChanges(base: base, token: token, mint: mint)
        try ResultWriter.write(common.scenario ?? "rest", target: common.target, figures, output: common.output)
    }

    /// A wrk script that stops each thread once every one of its connections has had 100 responses, sending what
    /// `then` sends (a plain GET without it).
    static func warmUp(connectionsPerThread: Int, then script: String?) throws -> String {
        var text = script.map { (try? String(contentsOfFile: $0, encoding: .utf8)) ?? "" } ?? ""
        text += """

            local answered = 0
            response = function()
              answered = answered + 1
              if answered >= \(100 * connectionsPerThread) then wrk.thread:stop() end
            end
            """
        return text
    }

    /// Read-all and clear, one at a time, each right after a new notification to one of the user's audiences:
    /// their latency in milliseconds (median and maximum).
    func bulkChanges(base: String, token: String, mint: TokenMint) async throws -> [String: Any] {
        let publisher = Publisher(port: common.port[0], mint: mint)
        let target =
            location.first.map { #""location_id":"\#($0)""# } ?? #""user_id":"\#(user)""#
        var result: [String: Any] = [:]
        for (name, method, path) in [
            ("read_all", HTTPMethod.PUT, "/api/v1/notifications/read-all"),
            ("clear", HTTPMethod.DELETE, "/api/v1/notifications"),
        ] {
            var millis: [Double] = []
            for round in 0..<bulkRounds {
                _ = try await publisher.publish(
                    #"{\#(target),"type":"system","title":"bulk \#(round)","message":"benchmark"}"#)
                var request = HTTPClientRequest(url: base + path)
                request.method = method
                request.headers.add(name: "Authorization", value: "Bearer \(token)")
                let started = ContinuousClock.now
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                _ = try await response.body.collect(upTo: 1 << 20)
                let elapsed = ContinuousClock.now - started
                guard response.status == .ok else { throw BenchError("\(name) answered \(response.status)") }
                millis.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1e3)
            }
            millis.sort()
            result[name] = ["p50_ms": millis[millis.count / 2], "max_ms": millis.last ?? 0, "rounds": millis.count]
        }
        return result
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

    /// Requests per second, the latency percentiles wrk prints with `--latency` and the largest latency, in
    /// milliseconds; timeouts and non-2xx answers if there were any.
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
            // "Latency   1.23ms  456.00us  12.34ms   90.00%": average, deviation, maximum.
            if parts.first == "Latency", parts.count >= 4, let value = milliseconds(parts[3]) {
                result["max_ms"] = value
            }
            if line.contains("Non-2xx or 3xx responses:"), let value = Double(parts.last ?? "") {
                result["non_2xx"] = value
            }
            if line.hasPrefix("Socket errors:"), let timeout = line.components(separatedBy: "timeout ").last,
                let value = Double(timeout.prefix { $0.isNumber })
            {
                result["timeouts"] = value
            }
        }
        return result
    }

    static func milliseconds(_ text: Substring) -> Double? {
        if text.hasSuffix("us") { return Double(text.dropLast(2)).map { $0 / 1000 } }
        if text.hasSuffix("ms") { return Double(text.dropLast(2)) }
        if text.hasSuffix("m") { return Double(text.dropLast()).map { $0 * 60_000 } }
        if text.hasSuffix("s") { return Double(text.dropLast()).map { $0 * 1000 } }
        return nil
    }
}
