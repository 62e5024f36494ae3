import NIOCore
import NIOWebSocket

/// Sends a close frame and ends the connection.
///
/// A peer that can still talk gets the RFC 6455 handshake: the connection stays open, reading and discarding, until
/// its close frame comes back (``MessageAssembler`` then closes it). Closing at once would leave its unread data in
/// our receive buffer, and the kernel would answer with a reset that can destroy our close frame before the peer
/// reads it. A peer that is dead or not reading (`awaitReply: false`) is closed as soon as the frame is written.
/// Either way the connection goes after a grace period, so a closing socket cannot pin memory.
enum WebSocketCloser {
    static let grace: TimeAmount = .seconds(2)

    static func close(context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String, awaitReply: Bool = true)
    {
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        let channel = context.channel
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        context.pipeline.fireUserInboundEventTriggered(CloseSentEvent(code: code))
        let written = channel.writeAndFlush(frame)
        if !awaitReply { written.whenComplete { _ in channel.close(promise: nil) } }
        channel.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
    }
}
