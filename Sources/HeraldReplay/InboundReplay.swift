import HeraldServer
import NIOCore
import NIOEmbedded
import NIOWebSocket

/// Feeds raw client bytes through a socket's pipeline (Herald's frame encoder for what it answers, NIOWebSocket's
/// frame decoder, the frame layer ``MessageAssembler``) and parses each text message as a ``ClientMessage``, on
/// an `EmbeddedChannel`. The socket has agreed to `permessage-deflate`, the larger of the two stacks: plain
/// frames take the same path as without it, and frames with RSV1 are inflated by a ``DeflateCodec``.
/// The libFuzzer target and its regression test drive exactly this, so a crash found by one is replayed by the
/// other.
public enum InboundReplay {
    /// Returns how many messages parsed; anything malformed must end in an error frame or a close, never a trap.
    @discardableResult
    public static func run(_ bytes: [UInt8], maxMessageBytes: Int = 65_536) -> Int {
        let parsed = ParsedCounter()
        let channel = EmbeddedChannel()
        do {
            let codec = try DeflateCodec()
            try channel.pipeline.syncOperations.addHandlers([
                WireFrameEncoder(deflate: codec),
                ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxMessageBytes)),
                MessageAssembler(maxMessageBytes: maxMessageBytes, inflater: codec),
                parsed,
            ])
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
            // Split the input at a point it chooses itself, so partial frames across reads are exercised too.
            let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
            for chunk in [bytes[..<split], bytes[split...]] where !chunk.isEmpty {
                try channel.writeInbound(channel.allocator.buffer(bytes: chunk))
            }
        } catch {
            // Decoding errors are expected for garbage; what matters is that nothing traps.
        }
        _ = try? channel.finish(acceptAlreadyClosed: true)
        return parsed.count
    }

    private final class ParsedCounter: ChannelInboundHandler {
        typealias InboundIn = InboundMessage
        var count = 0

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .text(let text) = unwrapInboundIn(data), (try? ClientMessage.parse(text)) != nil { count += 1 }
        }
    }
}
