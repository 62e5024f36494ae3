import Foundation
import HeraldServer
import NIOConcurrencyHelpers

/// A client that behaves like `herald.js`: it holds one socket to any live instance, and when that socket closes
/// it reconnects to another one with `since` = the last id it saw. It records every notification id in arrival
/// order and every close code it was given.
final class ResumingClient: Sendable {
    private struct State {
        var ids: [Int64] = []
        var closeCodes: [Int?] = []
        var port: Int?
        var stopped = false
    }

    let token: String
    private let state = NIOLockedValueBox(State())

    init(token: String) {
        self.token = token
    }

    var ids: [Int64] { state.withLockedValue { $0.ids } }
    var closeCodes: [Int?] { state.withLockedValue { $0.closeCodes } }
    /// The instance port of the open socket, if any.
    var port: Int? { state.withLockedValue { $0.port } }

    func stop() { state.withLockedValue { $0.stopped = true } }

    /// Runs until ``stop()``; `ports` gives the live instances, tried in turn starting at `first`.
    func run(ports: @escaping @Sendable () -> [Int], first: Int) async {
        var attempt = first
        while !state.withLockedValue({ $0.stopped }) {
            let live = ports()
            guard !live.isEmpty else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            let port = live[attempt % live.count]
            attempt += 1
            let since = ids.last ?? 0
            guard let socket = try? await TestSocket.connect(port: port, token: token, query: "&since=\(since)") else {
                try? await Task.sleep(for: .milliseconds(20))
                continue
            }
            state.withLockedValue { $0.port = port }
            var consumed = 0
            while true {
                let messages = socket.messages
                for message in messages[consumed...] where message["type"] == .string("notification") {
                    if let id = message["id"]?.int64Value { state.withLockedValue { $0.ids.append(id) } }
                }
                consumed = messages.count
                if socket.socket.isClosed {
                    let code = socket.socket.closeCode.map { Int(UInt16(webSocketErrorCode: $0)) }
                    state.withLockedValue {
                        $0.closeCodes.append(code)
                        $0.port = nil
                    }
                    break
                }
                if state.withLockedValue({ $0.stopped }) {
                    await socket.close()
                    break
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }
}
