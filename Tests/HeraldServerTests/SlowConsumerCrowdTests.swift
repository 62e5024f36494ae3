import AsyncHTTPClient
import Foundation
import HeraldServer
import NIOCore
import Testing
import WebSocketKit

/// A client that never reads, while 1,000 others receive (issue 5): memory stays bounded, that socket is closed,
/// and the others' fan-out latency stays flat. Against the real binary, so its memory can be read from /proc.
@Suite("Slow consumer among 1,000", .serialized)
struct SlowConsumerCrowdTests {
    static func residentKilobytes(_ pid: pid_t) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static func publish(_ port: Int, _ body: String, token: String) async throws -> Int64 {
        let answer = try await PortPublisher.publish(port: port, body, token: token, timeout: 30)
        guard answer.status == .created, let id = answer.ids.first else {
            throw TestSetupError("publish answered \(answer.status)")
        }
        return id
    }

    /// Publishes `count` location notifications one after another and returns each one's fan-out latency (request
    /// to the last of the crowd receiving it), in milliseconds.
    static func fanOut(
        _ count: Int, port: Int, token: String, board: ArrivalBoard, tag: String
    ) async throws -> [Double] {
        var latencies: [Double] = []
        for n in 0..<count {
            let started = Date()
            let id = try await publish(
                port, #"{"location_id":"C","type":"system","title":"\#(tag) \#(n)","message":"m"}"#, token: token)
            guard let done = await board.completion(of: id) else {
                throw TestSetupError("\(tag) \(n) never reached all")
            }
            latencies.append(done.timeIntervalSince(started) * 1000)
            try await Task.sleep(for: .milliseconds(50))
        }
        return latencies.sorted()
    }

    @Test("a socket that never reads is closed at its buffer bound; 1,000 readers keep their latency")
    func nonReaderAmongThousand() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        let herald = try await HeraldProcess.start(database: database, settings: ["WS_SEND_BUFFER_BYTES": "262144"])
        let minter = await TokenMinter(secret: TestServer.secret)
        let admin = try await minter.mint(sub: "admin", role: .admin)
        let crowd = 1000
        let board = ArrivalBoard(crowd: crowd)
        var sockets: [WebSocket] = []
        for index in 0..<crowd {
            sockets.append(
                try await board.join(
                    port: herald.port, token: try await minter.mint(sub: "c-\(index)", locations: ["C"])))
        }
        let baseline = try await Self.fanOut(20, port: herald.port, token: admin, board: board, tag: "baseline")

        let slow = try await RawSocket.connect(
            port: herald.port, token: try await minter.mint(sub: "slow", locations: []), reading: false)
        let rssBefore = Self.residentKilobytes(herald.child.pid)
        // 300 notifications of 30 KB for the non-reader alone (9 MB), while the crowd's latency is measured.
        let padding = String(repeating: "p", count: 30_000)
        let flood = Task {
            for n in 0..<300 {
                _ = try await Self.publish(
                    herald.port,
                    #"{"user_id":"slow","type":"system","title":"\#(n)","message":"m","data":{"pad":"\#(padding)"}}"#,
                    token: admin)
            }
        }
        let during = try await Self.fanOut(20, port: herald.port, token: admin, board: board, tag: "during")
        try await flood.value
        let rssAfter = Self.residentKilobytes(herald.child.pid)

        var status: JSONValue?
        for _ in 0..<100 {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(herald.port)/api/v1/ws/status")
            request.method = .GET
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            status = JSONValue.parse(try await response.body.collect(upTo: 1 << 20).readableBytesView)
            if status?["connections"]?["total_connections"] == .int(Int64(crowd)) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        let median = { (values: [Double]) in values[values.count / 2] }
        print(
            "slow consumer among \(crowd): fan-out p50 \(Int(median(baseline))) ms before, \(Int(median(during))) ms "
                + "during the flood (max \(Int(during.last ?? 0)) ms); RSS \(rssBefore / 1024) MB -> \(rssAfter / 1024) MB"
        )
        #expect(
            status?["connections"]?["total_connections"] == .int(Int64(crowd)),
            "the non-reader was closed, no reader was")
        #expect(sockets.allSatisfy { !$0.isClosed })
        #expect(rssAfter - rssBefore < 64 * 1024, "memory grew by \((rssAfter - rssBefore) / 1024) MB")
        // Relative, not absolute: on two cores the thousand client sockets in this process cost as much as the
        // server, so only the comparison with the same crowd before the flood says something about Herald.
        #expect(
            median(during) < median(baseline) * 2 + 50, "latency rose from \(median(baseline)) to \(median(during)) ms")
        #expect((during.last ?? 0) < (baseline.last ?? 0) * 3 + 200, "worst \(during.last ?? 0) ms")
        slow.close()
        for socket in sockets { try? await socket.close().get() }
        _ = try await herald.stop(signal: SIGTERM)
    }
}
