import NIOCore
import NIOWebSocket

/// The bottom of the socket's pipeline: writes each ``WireFrame`` as bytes. Server frames are never masked, so a
/// frame is its header and its payload; an ``EncodedFrame`` is already both and is written untouched, which is
/// how one notification's bytes reach thousands of sockets without being framed again for each.
///
/// It replaces NIOWebSocket's encoder so that the pre-encoded path is a type of its own and goes through every
/// handler above, instead of being written from below them.
///
/// On a socket that negotiated `permessage-deflate` it also compresses whole data messages with its loop's
/// ``DeflateCodec``; an ``EncodedFrame`` is compressed once per loop, whatever number of sockets it goes to.
package final class WireFrameEncoder: ChannelOutboundHandler {
    package typealias OutboundIn = WireFrame
    package typealias OutboundOut = ByteBuffer

    private let deflate: DeflateCodec?
    private let windowBits: Int

    /// `deflate` is the loop's codec if the socket agreed to compress, with the window it agreed to.
    package init(deflate: DeflateCodec? = nil, windowBits: Int = 15) {
        self.deflate = deflate
        self.windowBits = windowBits
    }

    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .encoded(let frame):
            let compressed = deflate?.compressed(frame, windowBits: windowBits)
            context.write(wrapOutboundOut((compressed ?? frame).bytes), promise: promise)
        case .frame(var frame):
            // Only a message in one frame is compressed: RSV1 would have to be on its first fragment, before the
            // rest were known.
            if let deflate, frame.fin, !frame.rsv1, frame.opcode == .text || frame.opcode == .binary,
                frame.data.readableBytes >= DeflateCodec.minimumPayloadBytes,
                let compressed = deflate.deflate(frame.data, windowBits: windowBits)
            {
                frame.data = compressed
                frame.rsv1 = true
            }
            let payload = frame.data
            var header = context.channel.allocator.buffer(capacity: 10)
            header.writeInteger(
                UInt8((frame.fin ? 0x80 : 0) | (frame.rsv1 ? 0x40 : 0) | UInt8(webSocketOpcode: frame.opcode)))
            Self.writeLength(payload.readableBytes, to: &header)
            if payload.readableBytes <= 256 {
                // Control frames and small messages: one buffer, one write.
                header.writeImmutableBuffer(payload)
                context.write(wrapOutboundOut(header), promise: promise)
            } else {
                context.write(wrapOutboundOut(header), promise: nil)
                context.write(wrapOutboundOut(payload), promise: promise)
            }
        }
    }

    /// The payload length in the shortest of its three forms (RFC 6455 §5.2); no mask bit.
    static func writeLength(_ length: Int, to buffer: inout ByteBuffer) {
        if length < 126 {
            buffer.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            buffer.writeInteger(UInt8(126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(127))
            buffer.writeInteger(UInt64(length))
        }
    }
}
