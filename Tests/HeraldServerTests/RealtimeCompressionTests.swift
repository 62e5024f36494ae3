import Foundation
import HeraldTestSupport
import NIOCore
import Testing

/// `permessage-deflate` on real sockets: who gets it, what arrives, and what a client may send compressed.
@Suite("Realtime compression")
struct RealtimeCompressionTests {
    static let accepted = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    static let message = String(
        repeating: "Your 10:30 appointment with Sam at the downtown shop is confirmed. ", count: 8)

    /// Each data frame's text, inflated as a browser does where RSV1 marks it compressed.
    static func texts(_ socket: RawSocket) throws -> [(compressed: Bool, text: String)] {
        try socket.framesWithRSV1.filter { $0.opcode == 0x1 }.map { frame in
            guard frame.rsv1 else { return (false, String(decoding: frame.payload, as: UTF8.self)) }
            return (true, try ClientCompression.inflate(frame.payload))
        }
    }

    static func waitFor(_ condition: () throws -> Bool) async throws {
        for _ in 0..<500 where try !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }

    @Test("clients that offer permessage-deflate get notifications compressed, in their window; others get them plain")
    func negotiatedPerSocket() async throws {
        try await TestServer.with { server in
            let token = try await server.token("cz", locations: ["L"])
            let offered = try await RawSocket.connect(
                port: server.app.port, query: "token=\(token)", extensions: "permessage-deflate; client_max_window_bits"
            )
            let windowed = try await RawSocket.connect(
                port: server.app.port, query: "token=\(token)",
                extensions: "permessage-deflate; server_max_window_bits=10")
            let plain = try await RawSocket.connect(port: server.app.port, query: "token=\(token)")
            // Each 101 in full before its headers are read: under CI's parallel suites one came after connect's
            // settle once.
            for socket in [offered, windowed, plain] { #expect(await socket.statusLine(timeout: 10).contains(" 101 ")) }
            #expect(offered.responseHeader("Sec-WebSocket-Extensions") == Self.accepted)
            #expect(
                windowed.responseHeader("Sec-WebSocket-Extensions") == Self.accepted + "; server_max_window_bits=10")
            #expect(plain.responseHeader("Sec-WebSocket-Extensions") == nil)
            try await server.waitUntilReady()

            try await server.publish(
                #"{"location_id":"L","type":"booking","title":"Confirmed","message":"\#(Self.message)"}"#)
            let sockets = [offered, windowed, plain]
            try await Self.waitFor { try sockets.allSatisfy { try Self.texts($0).count >= 2 } }
            let notifications = try sockets.map { try #require(Self.texts($0).last) }
            #expect(notifications.map(\.compressed) == [true, true, false])
            #expect(notifications[0].text == notifications[2].text, "the same JSON, byte for byte")
            #expect(notifications[1].text == notifications[2].text)
            #expect(notifications[2].text.contains(#""title":"Confirmed""#))
            let sizes = sockets.map { $0.framesWithRSV1.last { $0.opcode == 0x1 }?.payload.count ?? 0 }
            #expect(sizes[0] * 3 < sizes[2], "compressed to under a third")

            // A compressed message from the client is read as its text.
            try await offered.send(
                firstByte: 0xC1, payload: try ClientCompression.deflate(Array(#"{"type":"ping"}"#.utf8)))
            try await Self.waitFor { try Self.texts(offered).count >= 3 }
            #expect(try Self.texts(offered).last?.text.contains(#""type":"pong""#) == true)
            // One that would inflate past WS_MAX_MESSAGE_BYTES (64 KiB) is closed with 1009, though it is small.
            let bomb = try ClientCompression.deflate(Array(repeating: UInt8(ascii: " "), count: 1 << 20))
            try await offered.send(firstByte: 0xC1, payload: bomb)
            #expect(await offered.closeCode() == 1009)
            // Compressed bytes on a socket that did not agree to them: 1002.
            try await plain.send(
                firstByte: 0xC1, payload: try ClientCompression.deflate(Array(#"{"type":"ping"}"#.utf8)))
            #expect(await plain.closeCode() == 1002)
            windowed.close()
        }
    }

    @Test("with WS_COMPRESSION=false the offer is declined and every frame goes plain")
    func switchedOff() async throws {
        try await TestServer.with(["WS_COMPRESSION": "false"]) { server in
            let token = try await server.token("cy", locations: ["L"])
            let socket = try await RawSocket.connect(
                port: server.app.port, query: "token=\(token)", extensions: "permessage-deflate; client_max_window_bits"
            )
            #expect(socket.responseHeader("Sec-WebSocket-Extensions") == nil)
            try await server.waitUntilReady()
            try await server.publish(
                #"{"location_id":"L","type":"booking","title":"Plain","message":"\#(Self.message)"}"#)
            try await Self.waitFor { try Self.texts(socket).count >= 2 }
            #expect(try Self.texts(socket).map(\.compressed) == [false, false])
            socket.close()
        }
    }
}
