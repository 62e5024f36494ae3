import Foundation
import HeraldServer
import NIOConcurrencyHelpers
import NIOPosix
import WebSocketKit

/// Counts, for each notification id, how many of a crowd of sockets have received it, and when the last one did:
/// the fan-out latency of a publish is the time from its request to that moment.
final class ArrivalBoard: Sendable {
    private struct State {
        var counts: [Int64: Int] = [:]
        var completed: [Int64: Date] = [:]
    }

    let crowd: Int
    private let state = NIOLockedValueBox(State())

    init(crowd: Int) {
        self.crowd = crowd
    }

    func record(_ text: String) {
        guard let id = Self.notificationID(text) else { return }
        let now = Date()
        state.withLockedValue { state in
            let count = (state.counts[id] ?? 0) + 1
            state.counts[id] = count
            if count == crowd { state.completed[id] = now }
        }
    }

    /// The `id` of a notification frame, read without a JSON parser: with a thousand sockets in this process, the
    /// test's own parsing would otherwise be most of the latency it measures.
    static func notificationID(_ text: String) -> Int64? {
        let prefix = #"{"type":"notification","#
        guard text.hasPrefix(prefix), let key = text.range(of: #","id":"#) else { return nil }
        return Int64(text[key.upperBound...].prefix { $0.isNumber })
    }

    /// When the last socket of the crowd received `id`, waiting up to `timeout`.
    func completion(of id: Int64, timeout: Double = 20) async -> Date? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let done = state.withLockedValue({ $0.completed[id] }) { return done }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return nil
    }

    /// Opens one socket of the crowd; it reports every message here.
    func join(port: Int, token: String) async throws -> WebSocket {
        let box = NIOLockedValueBox<WebSocket?>(nil)
        try await WebSocket.connect(
            to: "ws://127.0.0.1:\(port)/api/v1/ws?token=\(token)", on: MultiThreadedEventLoopGroup.singleton
        ) { socket in
            socket.onText { [self] _, text in record(text) }
            box.withLockedValue { $0 = socket }
        }.get()
        for _ in 0..<500 {
            if let socket = box.withLockedValue({ $0 }) { return socket }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestSetupError("upgrade completed without a socket")
    }
}
