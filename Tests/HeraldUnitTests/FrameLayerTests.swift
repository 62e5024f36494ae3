import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import HeraldServer

/// The socket's frame layer on an `EmbeddedChannel`: the encoder's bytes, the frame layer's messages and its
/// closing handshake, each as a client would see them.
@Suite("Frame layer")
struct FrameLayerTests {
    /// Records what reaches the top of the pipeline: messages and ``SocketClosing`` events.
    final class Top: ChannelInboundHandler {
        typealias InboundIn = InboundMessage
        typealias OutboundOut = WireFrame
        var texts: [String] = []
        var closings: [SocketClosing] = []

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .text(let text) = unwrapInboundIn(data) { texts.append(text) }
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let closing = event as? SocketClosing { closings.append(closing) }
        }
    }

    /// A channel with the real pipeline, the frame decoder fed frames directly.
    static func channel(maxMessageBytes: Int = 1024) throws -> (EmbeddedChannel, Top) {
        let top = Top()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            WireFrameEncoder(), MessageAssembler(maxMessageBytes: maxMessageBytes), top,
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, top)
    }

    static func frame(_ opcode: WebSocketOpcode, _ text: String = "", fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, opcode: opcode, data: ByteBuffer(string: text))
    }

    static func close(_ code: UInt16, _ reason: String = "") -> WebSocketFrame {
        var data = ByteBuffer()
        data.writeInteger(code)
        data.writeString(reason)
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    /// Everything written to the socket, as bytes.
    static func written(_ channel: EmbeddedChannel) throws -> [UInt8] {
        var bytes: [UInt8] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { bytes += Array(buffer.readableBytesView) }
        return bytes
    }

    /// The close frame at the start of `bytes`: its code and reason.
    static func closeFrame(_ bytes: [UInt8]) -> (code: UInt16, reason: String)? {
        guard bytes.count >= 4, bytes[0] == 0x88 else { return nil }
        let length = Int(bytes[1])
        let code = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        return (code, String(decoding: bytes[4..<(2 + length)], as: UTF8.self))
    }

    // MARK: The encoder

    @Test("frames are encoded unmasked in the shortest length form; pre-encoded bytes pass untouched")
    func encoder() throws {
        let channel = EmbeddedChannel(handler: WireFrameEncoder())
        for (length, header) in [
            (5, [0x81, 5]), (200, [0x81, 126, 0, 200]), (70_000, [0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]),
        ] {
            let payload = String(repeating: "x", count: length)
            try channel.writeOutbound(WireFrame.frame(Self.frame(.text, payload)))
            let bytes = try Self.written(channel)
            #expect(Array(bytes.prefix(header.count)) == header.map(UInt8.init))
            #expect(bytes.count == header.count + length)
        }
        let encoded = EncodedFrame(text: ByteBuffer(string: #"{"type":"pong"}"#))
        try channel.writeOutbound(WireFrame.encoded(encoded))
        #expect(try Self.written(channel) == Array(encoded.bytes.readableBytesView))
    }

    @Test("the handshake's accept value is RFC 6455's own example")
    func acceptKey() {
        #expect(SocketProtocolUpgrader.accept(key: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    // MARK: Messages

    @Test("fragments join into one message; a ping is answered with its payload")
    func messages() throws {
        let (channel, top) = try Self.channel()
        try channel.writeInbound(Self.frame(.text, "hel", fin: false))
        try channel.writeInbound(Self.frame(.continuation, "lo"))
        #expect(top.texts == ["hello"])
        try channel.writeInbound(Self.frame(.ping, "beat"))
        #expect(try Self.written(channel) == [0x8A, 4] + Array("beat".utf8))
    }

    @Test("a message past the limit closes with 1009, bad UTF-8 with 1007, both without waiting")
    func refusals() throws {
        for (frame, code) in [
            (Self.frame(.text, String(repeating: "x", count: 20)), 1009 as UInt16),
            (WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(bytes: [0xC3, 0x28])), 1007),
        ] {
            let (channel, top) = try Self.channel(maxMessageBytes: 10)
            try channel.writeInbound(frame)
            #expect(Self.closeFrame(try Self.written(channel))?.code == code)
            #expect(!channel.isActive, "closed once the frame is written")
            #expect(top.closings.first?.initiatedByPeer == false)
            #expect(top.texts.isEmpty)
        }
    }

    @Test("a frame the decoder refuses as too long closes with 1009")
    func decoderError() throws {
        let (channel, _) = try Self.channel()
        channel.pipeline.fireErrorCaught(NIOWebSocketError.invalidFrameLength)
        #expect(Self.closeFrame(try Self.written(channel))?.code == 1009)
        #expect(!channel.isActive)
    }

    // MARK: The closing handshake

    @Test("the peer closes first: its code is echoed, the connection ends, the session learns it was the peer")
    func peerCloses() throws {
        let (channel, top) = try Self.channel()
        try channel.writeInbound(Self.close(4000, "bye"))
        #expect(Self.closeFrame(try Self.written(channel))?.code == 4000)
        #expect(!channel.isActive)
        #expect(top.closings.map(\.initiatedByPeer) == [true])
    }

    @Test("we close first: the frame goes, data stops both ways, and the peer's answer ends the connection")
    func weClose() throws {
        let (channel, top) = try Self.channel()
        channel.pipeline.triggerUserOutboundEvent(
            CloseRequest(code: .init(codeNumber: 4409), reason: "replaced", peerCanAnswer: true), promise: nil)
        #expect(Self.closeFrame(try Self.written(channel))! == (4409, "replaced"))
        #expect(channel.isActive, "waits for the peer's close frame")
        // A second request, data from the peer, and data from the session: all too late.
        channel.pipeline.triggerUserOutboundEvent(
            CloseRequest(code: .init(codeNumber: 1001), reason: "again", peerCanAnswer: true), promise: nil)
        try channel.writeInbound(Self.frame(.text, "late"))
        let late = channel.writeAndFlush(WireFrame.encoded(EncodedFrame(text: ByteBuffer(string: "{}"))))
        #expect(throws: ChannelError.self) { try late.wait() }
        #expect(try Self.written(channel).isEmpty)
        #expect(top.texts.isEmpty)
        #expect(top.closings.map(\.initiatedByPeer) == [false])
        try channel.writeInbound(Self.close(4409))
        #expect(!channel.isActive)
    }

    @Test("a peer that never answers our close is dropped after the grace period")
    func graceRunsOut() throws {
        let (channel, _) = try Self.channel()
        channel.pipeline.triggerUserOutboundEvent(
            CloseRequest(code: .goingAway, reason: "draining", peerCanAnswer: true), promise: nil)
        channel.embeddedEventLoop.advanceTime(by: MessageAssembler.grace - .milliseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test("a close to a peer that reads nothing goes after the grace period, though its frame never leaves")
    func unreadClose() throws {
        let (channel, _) = try Self.channel()
        // The close frame's write never completes, as when the peer's receive window is full.
        try channel.pipeline.syncOperations.addHandler(StallingWrites(), position: .first)
        channel.pipeline.triggerUserOutboundEvent(
            CloseRequest(code: .policyViolation, reason: "send buffer full", peerCanAnswer: false), promise: nil)
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: MessageAssembler.grace)
        #expect(!channel.isActive)
    }

    /// Holds every write's promise without completing it.
    final class StallingWrites: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var held: [EventLoopPromise<Void>] = []

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if let promise { held.append(promise) }
        }

        func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
            for promise in held { promise.fail(ChannelError.ioOnClosedChannel) }
            held = []
            context.close(mode: mode, promise: promise)
        }
    }

    @Test("close payloads RFC 6455 forbids are answered with 1002 or 1007 and end the connection")
    func badClosePayloads() throws {
        var oneByte = ByteBuffer()
        oneByte.writeInteger(UInt8(3))
        for (frame, code) in [
            (WebSocketFrame(fin: true, opcode: .connectionClose, data: oneByte), 1002 as UInt16),
            (Self.close(1005), 1002), (Self.close(999), 1002),
            (
                WebSocketFrame(fin: true, opcode: .connectionClose, data: ByteBuffer(bytes: [0x03, 0xE8, 0xC3, 0x28])),
                1007
            ),
        ] {
            let (channel, top) = try Self.channel()
            try channel.writeInbound(frame)
            #expect(Self.closeFrame(try Self.written(channel))?.code == code)
            #expect(!channel.isActive)
            #expect(top.closings.map(\.initiatedByPeer) == [false])
        }
    }

    @Test("the handshake as a value: who closes first decides what is sent and when the connection ends")
    func handshakeStates() {
        var ours = CloseHandshake()
        #expect(
            ours.close(code: .normalClosure, reason: "", peerCanAnswer: true)
                == .sendClose(code: .normalClosure, reason: "", closeAfterWrite: false))
        #expect(ours.close(code: .goingAway, reason: "", peerCanAnswer: false) == .ignore)
        #expect(ours.received(.close(.normalClosure)) == .closeConnection)
        var theirs = CloseHandshake()
        #expect(
            theirs.received(.close(.init(codeNumber: 1005)))
                == .sendClose(code: .normalClosure, reason: "", closeAfterWrite: true))
        #expect(theirs.received(.close(.normalClosure)) == .ignore)
        #expect(theirs.close(code: .goingAway, reason: "", peerCanAnswer: true) == .ignore)
        #expect(CloseHandshake.parse(ByteBuffer()) == .close(.init(codeNumber: 1005)))
    }
}
