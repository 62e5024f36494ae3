import HeraldTestSupport
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

@testable import HeraldServer

/// `permessage-deflate` (RFC 7692): what is agreed to for each offer a client may make, the loop's codec, and
/// the frame layer with compression on, as a client would see it. Client-side compression comes from zlib
/// directly, not from the code under test.
@Suite("Compression")
struct CompressionTests {
    // MARK: Negotiation

    @Test("offers are accepted without context takeover, first acceptable one wins, and the window is echoed")
    func negotiation() {
        let plain = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
        let cases: [([String], String?)] = [
            // What browsers send.
            (["permessage-deflate; client_max_window_bits"], plain),
            (["permessage-deflate"], plain),
            (["PerMessage-Deflate ;server_no_context_takeover;client_no_context_takeover"], plain),
            (["permessage-deflate; server_max_window_bits=10"], plain + "; server_max_window_bits=10"),
            (["permessage-deflate; server_max_window_bits=\"12\""], plain + "; server_max_window_bits=12"),
            // Declined offers fall through to the next, in order, across header lines too.
            (["permessage-deflate; server_max_window_bits=8, permessage-deflate"], plain),
            (["x-webkit-deflate-frame", "permessage-deflate; client_max_window_bits=15"], plain),
            // Malformed or unusable offers: no compression, and the handshake still succeeds.
            (["permessage-deflate; server_max_window_bits=8"], nil),
            (["permessage-deflate; server_max_window_bits"], nil),
            (["permessage-deflate; server_max_window_bits=16"], nil),
            (["permessage-deflate; server_max_window_bits=09"], nil),
            (["permessage-deflate; client_max_window_bits=7"], nil),
            (["permessage-deflate; server_no_context_takeover; server_no_context_takeover"], nil),
            (["permessage-deflate; server_no_context_takeover=1"], nil),
            (["permessage-deflate; mystery"], nil),
            (["deflate-frame"], nil),
            ([], nil),
            ([""], nil),
        ]
        for (offers, expected) in cases {
            #expect(DeflateNegotiation.accept(offers)?.responseHeader == expected, "\(offers)")
        }
        #expect(DeflateNegotiation.accept(["permessage-deflate; server_max_window_bits=9"])?.serverWindowBits == 9)
        #expect(DeflateNegotiation.accept(["permessage-deflate"])?.serverWindowBits == 15)
    }

    // MARK: The codec

    static let json =
        #"{"type":"notification","title":"Booking confirmed","message":""#
        + String(repeating: "Your appointment at the downtown shop is confirmed. ", count: 12) + #""}"#

    @Test("a frame is compressed once per loop, and what a client inflates is the frame's text")
    func compressOnce() throws {
        let codec = try DeflateCodec()
        let frame = EncodedFrame(text: ByteBuffer(string: Self.json))
        let compressed = try #require(codec.compressed(frame, windowBits: 15))
        #expect(compressed.bytes.getInteger(at: 0, as: UInt8.self) == 0xC1, "FIN, RSV1, text")
        #expect(compressed.payloadLength < frame.payloadLength / 3)
        #expect(try ClientCompression.inflate(compressed.payload.readableBytesView) == Self.json)
        // The same frame again, as the next socket of a fan-out asks: the very same bytes, not a new copy.
        #expect(codec.compressed(frame, windowBits: 15).map { $0.sharesBytes(with: compressed) } == true)
        // Another frame, even with equal text, is compressed anew; a smaller window gets its own.
        let other = EncodedFrame(text: ByteBuffer(string: Self.json))
        #expect(codec.compressed(other, windowBits: 15).map { $0.sharesBytes(with: compressed) } == false)
        let small = try #require(codec.compressed(frame, windowBits: 9))
        #expect(try ClientCompression.inflate(small.payload.readableBytesView) == Self.json)
        // Short or incompressible payloads go as they are.
        #expect(codec.compressed(EncodedFrame(text: ByteBuffer(string: #"{"type":"pong"}"#)), windowBits: 15) == nil)
        var random = SystemRandomNumberGenerator()
        let noise = (0..<2000).map { _ in UInt8.random(in: 0...255, using: &random) }
        #expect(codec.deflate(ByteBuffer(bytes: noise), windowBits: 15) == nil)
    }

    @Test("inflating stops at the limit, refuses what is not deflate, and the codec works on after either")
    func inflateBounds() throws {
        let codec = try DeflateCodec()
        let bomb = try ClientCompression.deflate(Array(repeating: UInt8(ascii: "a"), count: 1 << 20))
        #expect(bomb.count < 2048)
        #expect(throws: DeflateCodec.InflateFailure.tooLarge) {
            try codec.inflate(ByteBuffer(bytes: bomb), limit: 65536)
        }
        #expect(throws: DeflateCodec.InflateFailure.corrupt) {
            try codec.inflate(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x00]), limit: 65536)
        }
        let message = try ClientCompression.deflate(Array(Self.json.utf8))
        #expect(String(buffer: try codec.inflate(ByteBuffer(bytes: message), limit: 65536)) == Self.json)
        // Exactly at the limit is fine; one byte more is not.
        let count = Self.json.utf8.count
        #expect(try codec.inflate(ByteBuffer(bytes: message), limit: count).readableBytes == count)
        #expect(throws: DeflateCodec.InflateFailure.tooLarge) {
            try codec.inflate(ByteBuffer(bytes: message), limit: count - 1)
        }
        // A large message that needs its output grown several times comes out whole.
        let long = String(repeating: Self.json, count: 40)
        let deflated = try ClientCompression.deflate(Array(long.utf8))
        #expect(String(buffer: try codec.inflate(ByteBuffer(bytes: deflated), limit: 1 << 20)) == long)
    }

    // MARK: The frame layer with compression

    /// The encoder and frame layer as a socket that agreed to compress has them.
    static func channel(maxMessageBytes: Int = 4096) throws -> (EmbeddedChannel, FrameLayerTests.Top) {
        let codec = try DeflateCodec()
        let top = FrameLayerTests.Top()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandlers([
            WireFrameEncoder(deflate: codec), MessageAssembler(maxMessageBytes: maxMessageBytes, inflater: codec), top,
        ])
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, top)
    }

    static func compressedFrame(_ bytes: [UInt8], opcode: WebSocketOpcode = .text, fin: Bool = true) -> WebSocketFrame {
        WebSocketFrame(fin: fin, rsv1: true, opcode: opcode, data: ByteBuffer(bytes: bytes))
    }

    @Test("compressed messages, whole or in fragments, arrive inflated; plain ones still pass")
    func inboundMessages() throws {
        let (channel, top) = try Self.channel()
        let deflated = try ClientCompression.deflate(Array(Self.json.utf8))
        try channel.writeInbound(Self.compressedFrame(deflated))
        let middle = deflated.count / 2
        try channel.writeInbound(Self.compressedFrame(Array(deflated[..<middle]), fin: false))
        try channel.writeInbound(
            WebSocketFrame(fin: true, opcode: .continuation, data: ByteBuffer(bytes: deflated[middle...])))
        try channel.writeInbound(FrameLayerTests.frame(.text, "plain"))
        #expect(top.texts == [Self.json, Self.json, "plain"])
    }

    @Test("outbound: a large message goes compressed with RSV1, a small one and control frames as they are")
    func outboundMessages() throws {
        let (channel, _) = try Self.channel()
        try channel.writeOutbound(WireFrame.encoded(EncodedFrame(text: ByteBuffer(string: Self.json))))
        let written = try FrameLayerTests.written(channel)
        #expect(written[0] == 0xC1)
        #expect(written[1] < 126 && written.count == 2 + Int(written[1]), "one frame, shorter than the text")
        #expect(try ClientCompression.inflate(written[2...]) == Self.json)

        try channel.writeOutbound(WireFrame.frame(FrameLayerTests.frame(.text, Self.json)))
        let echoed = try FrameLayerTests.written(channel)
        #expect(echoed[0] == 0xC1)
        #expect(try ClientCompression.inflate(echoed[2...]) == Self.json)

        try channel.writeOutbound(WireFrame.encoded(EncodedFrame(text: ByteBuffer(string: "{}"))))
        #expect(try FrameLayerTests.written(channel) == [0x81, 2] + Array("{}".utf8))
        try channel.writeInbound(FrameLayerTests.frame(.ping, "beat"))
        #expect(try FrameLayerTests.written(channel) == [0x8A, 4] + Array("beat".utf8))
    }

    @Test("a bomb closes with 1009, bytes that do not inflate with 1007, RSV1 where it may not be with 1002")
    func inboundRefusals() throws {
        let bomb = try ClientCompression.deflate(Array(repeating: UInt8(ascii: "a"), count: 1 << 20))
        let deflated = try ClientCompression.deflate(Array(Self.json.utf8))
        let badUTF8 = try ClientCompression.deflate([0x22, 0xC3, 0x28, 0x22])
        for (frames, code) in [
            ([Self.compressedFrame(bomb)], 1009 as UInt16),
            ([Self.compressedFrame([0xFF, 0xFF, 0xFF, 0xFF, 0x00])], 1007),
            ([Self.compressedFrame(badUTF8)], 1007),
            ([WebSocketFrame(fin: true, rsv1: true, opcode: .ping, data: ByteBuffer())], 1002),
            (
                [
                    Self.compressedFrame(Array(deflated.prefix(10)), fin: false),
                    WebSocketFrame(
                        fin: true, rsv1: true, opcode: .continuation, data: ByteBuffer(bytes: deflated[10...])),
                ], 1002
            ),
            ([WebSocketFrame(fin: true, rsv2: true, opcode: .text, data: ByteBuffer(string: "x"))], 1002),
        ] {
            let (channel, top) = try Self.channel()
            for frame in frames { try channel.writeInbound(frame) }
            #expect(FrameLayerTests.closeFrame(try FrameLayerTests.written(channel))?.code == code, "\(code)")
            #expect(!channel.isActive)
            #expect(top.texts.isEmpty)
        }
        // Without the agreement, RSV1 means nothing and is refused.
        let (plain, _) = try FrameLayerTests.channel()
        try plain.writeInbound(Self.compressedFrame(deflated))
        #expect(FrameLayerTests.closeFrame(try FrameLayerTests.written(plain))?.code == 1002)
    }
}
