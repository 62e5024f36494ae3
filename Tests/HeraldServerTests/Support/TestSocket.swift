import Foundation
import HeraldServer
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOWebSocket
import WebSocketKit

/// A real WebSocket client (websocket-kit) that records every message it receives.
final class TestSocket: Sendable {
    let socket: WebSocket
    private let received = NIOLockedValueBox<[JSONValue]>([])
    private let cursor = NIOLockedValueBox(0)

    private init(_ socket: WebSocket) {
        self.socket = socket
        socket.onText { [received] _, text in
            received.withLockedValue { $0.append(JSONValue.parse(Array(text.utf8)) ?? .string(text)) }
        }
    }

    static func connect(port: Int, token: String, query: String = "") async throws -> TestSocket {
        try await connect(port: port, rawQuery: "token=\(token)\(query)")
    }

    /// Connects with exactly `rawQuery` after the `?`.
    static func connect(port: Int, rawQuery: String) async throws -> TestSocket {
        let box = NIOLockedValueBox<TestSocket?>(nil)
        let url = "ws://127.0.0.1:\(port)/api/v1/ws?\(rawQuery)"
        try await WebSocket.connect(
            to: url, configuration: .init(maxFrameSize: 1 << 24), on: MultiThreadedEventLoopGroup.singleton
        ) { socket in
            box.withLockedValue { $0 = TestSocket(socket) }
        }.get()
        for _ in 0..<500 {
            if let socket = box.withLockedValue({ $0 }) { return socket }
            try await Task.sleep(for: .milliseconds(2))
        }
        throw TestSetupError("upgrade completed without a socket")
    }

    /// Connects and consumes the `connection` frame.
    static func open(_ server: TestServer, token: String, query: String = "") async throws -> TestSocket {
        let socket = try await connect(port: server.app.port, token: token, query: query)
        let hello = try await socket.next("connection")
        guard hello["status"] == .string("connected") else { throw TestSetupError("no connection frame: \(hello)") }
        return socket
    }

    var messages: [JSONValue] { received.withLockedValue { $0 } }

    /// The next message not yet taken, of `type` if given (others before it are skipped).
    func next(_ type: String? = nil, timeout: Double = 5) async throws -> JSONValue {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let found: JSONValue? = cursor.withLockedValue { cursor in
                let all = messages
                while cursor < all.count {
                    let message = all[cursor]
                    cursor += 1
                    if type == nil || message["type"]?.stringValue == type { return message }
                }
                return nil
            }
            if let found { return found }
            try await Task.sleep(for: .milliseconds(3))
        }
        throw TestSetupError("no \(type ?? "message") within \(timeout)s; received \(messages)")
    }

    /// Messages of `type` received so far.
    func all(_ type: String) -> [JSONValue] { messages.filter { $0["type"]?.stringValue == type } }

    func send(_ text: String) async throws {
        try await socket.send(text)
    }

    func send(raw bytes: [UInt8], opcode: WebSocketOpcode, fin: Bool = true) {
        socket.send(ByteBuffer(bytes: bytes), opcode: opcode, fin: fin)
    }

    /// Waits for the server to close the socket and returns the close code.
    func closeCode(timeout: Double = 5) async throws -> Int? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if socket.isClosed { return socket.closeCode.map { Int(UInt16(webSocketErrorCode: $0)) } }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw TestSetupError("socket still open after \(timeout)s")
    }

    func close() async {
        try? await socket.close(code: .normalClosure).get()
    }
}
