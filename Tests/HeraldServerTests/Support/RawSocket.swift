import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A client that completes the WebSocket handshake by hand and then does nothing: it never answers a ping and,
/// with `reading: false`, stops reading, like a frozen browser tab or a dead peer.
final class RawSocket: Sendable {
    let channel: any Channel
    private let closed = NIOLockedValueBox(false)
    private let bytes = NIOLockedValueBox<[UInt8]>([])

    private init(channel: any Channel) {
        self.channel = channel
    }

    static func connect(port: Int, token: String, reading: Bool = true) async throws -> RawSocket {
        try await connect(port: port, query: "token=\(token)", reading: reading)
    }

    /// Connects with exactly `query` after the `?` (and `extensions` as `Sec-WebSocket-Extensions`), then waits
    /// `settle` for the handshake to be answered.
    static func connect(
        port: Int, query: String, extensions: String? = nil, reading: Bool = true, settle: Duration = .milliseconds(200)
    ) async throws -> RawSocket {
        let box = NIOLockedValueBox<RawSocket?>(nil)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.so_rcvbuf), value: 4096)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Recorder(box: box))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let socket = RawSocket(channel: channel)
        box.withLockedValue { $0 = socket }
        let request =
            "GET /api/v1/ws?\(query) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + (extensions.map { "Sec-WebSocket-Extensions: \($0)\r\n" } ?? "") + "\r\n"
        try await channel.writeAndFlush(ByteBuffer(string: request)).get()
        // Let the handshake and the connection frame arrive before reading stops.
        try await Task.sleep(for: settle)
        if !reading { try await channel.setOption(.autoRead, value: false).get() }
        return socket
    }

    /// The HTTP status a handshake with `query` is answered with (0 if none came).
    static func handshakeStatus(port: Int, query: String) async throws -> Int {
        let socket = try await connect(port: port, query: query, settle: .zero)
        let line = await socket.statusLine(timeout: 5)
        socket.close()
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    var isClosed: Bool { closed.withLockedValue { $0 } }
    var bytesReceived: Int { bytes.withLockedValue { $0.count } }

    /// The server frames after the HTTP response, as (opcode, payload), while the bytes parse as unmasked frames.
    var frames: [(opcode: UInt8, payload: [UInt8])] {
        framesWithRSV1.map { ($0.opcode, $0.payload) }
    }

    /// The same, with each frame's RSV1 bit (set on a message `permessage-deflate` compressed).
    var framesWithRSV1: [(opcode: UInt8, rsv1: Bool, payload: [UInt8])] {
        let all = bytes.withLockedValue { $0 }
        guard let end = all.indices.first(where: { all[$0...].starts(with: Array("\r\n\r\n".utf8)) }) else { return [] }
        var index = end + 4
        var frames: [(UInt8, Bool, [UInt8])] = []
        while index + 2 <= all.count {
            let opcode = all[index] & 0x0F
            let rsv1 = all[index] & 0x40 != 0
            var length = Int(all[index + 1] & 0x7F)
            index += 2
            if length == 126 {
                guard index + 2 <= all.count else { break }
                length = Int(all[index]) << 8 | Int(all[index + 1])
                index += 2
            } else if length == 127 {
                break
            }
            guard index + length <= all.count else { break }
            frames.append((opcode, rsv1, Array(all[index..<index + length])))
            index += length
        }
        return frames
    }

    /// The response status line once it has arrived (empty after `timeout`).
    func statusLine(timeout: Double) async -> String {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let all = bytes.withLockedValue { $0 }
            if all.indices.contains(where: { all[$0...].starts(with: Array("\r\n\r\n".utf8)) }) {
                // A refusal's body follows its headers; give it a moment to arrive too.
                if !statusLine.contains(" 101 ") { try? await Task.sleep(for: .milliseconds(20)) }
                return statusLine
            }
            if isClosed { return statusLine }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return statusLine
    }

    /// What followed the response headers, as text (the JSON body of a refusal).
    var body: String {
        let all = bytes.withLockedValue { $0 }
        guard let end = all.indices.first(where: { all[$0...].starts(with: Array("\r\n\r\n".utf8)) }) else { return "" }
        return String(decoding: all[(end + 4)...], as: UTF8.self)
    }

    /// The value of response header `name` (case-insensitive), once the response has arrived.
    func responseHeader(_ name: String) -> String? {
        let all = bytes.withLockedValue { $0 }
        guard let end = all.indices.first(where: { all[$0...].starts(with: Array("\r\n\r\n".utf8)) }) else {
            return nil
        }
        for line in String(decoding: all[..<end], as: UTF8.self).components(separatedBy: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == name.lowercased() {
                return parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    /// Sends one client frame: `firstByte` (FIN, RSV and opcode) and `payload`, under a zero mask.
    func send(firstByte: UInt8, payload: [UInt8]) async throws {
        var frame = ByteBuffer(bytes: [firstByte])
        if payload.count < 126 {
            frame.writeInteger(UInt8(0x80 | payload.count))
        } else {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(payload.count))
        }
        frame.writeBytes([0, 0, 0, 0])
        frame.writeBytes(payload)
        try await channel.writeAndFlush(frame).get()
    }

    /// The response status line, e.g. `HTTP/1.1 101 Switching Protocols`.
    var statusLine: String {
        let text = String(decoding: bytes.withLockedValue { $0.prefix(200) }, as: UTF8.self)
        return text.components(separatedBy: "\r\n").first ?? ""
    }

    /// The code of the close frame the server sent, once the connection has ended.
    func closeCode(timeout: Double = 5) async -> Int? {
        guard await waitClosed(timeout: timeout) else { return nil }
        guard let close = frames.first(where: { $0.opcode == 0x8 }), close.payload.count >= 2 else { return nil }
        return Int(close.payload[0]) << 8 | Int(close.payload[1])
    }

    /// Waits for the server's close frame, answers it as a browser would, and returns its code and reason.
    func closeFrame(timeout: Double = 5) async -> (code: Int, reason: String)? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let close = frames.first(where: { $0.opcode == 0x8 }), close.payload.count >= 2 {
                // A masked close frame with the same code (mask 0, so the payload goes as is).
                var reply = ByteBuffer(bytes: [0x88, 0x82, 0, 0, 0, 0])
                reply.writeBytes(close.payload.prefix(2))
                try? await channel.writeAndFlush(reply).get()
                let code = Int(close.payload[0]) << 8 | Int(close.payload[1])
                return (code, String(decoding: close.payload.dropFirst(2), as: UTF8.self))
            }
            if isClosed { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }

    /// Data frames (text or binary) the server sent.
    var dataFrames: Int { frames.filter { $0.opcode == 0x1 || $0.opcode == 0x2 }.count }

    func waitClosed(timeout: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if isClosed { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isClosed
    }

    func close() {
        channel.close(promise: nil)
    }

    private final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let box: NIOLockedValueBox<RawSocket?>

        init(box: NIOLockedValueBox<RawSocket?>) {
            self.box = box
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            box.withLockedValue { socket in
                socket?.bytes.withLockedValue { bytes in
                    if bytes.count < 1 << 20 { bytes += buffer.readableBytesView }
                }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            box.withLockedValue { $0?.closed.withLockedValue { $0 = true } }
        }
    }
}
