import NIOCore
import NIOWebSocket

/// Sends a close frame and ends the connection. The connection is closed once the frame is written, or after a
/// grace period if a peer that stopped reading never lets it be written, so a closing socket cannot pin memory.
enum WebSocketCloser {
    static let grace: TimeAmount = .seconds(2)

    static func close(context: ChannelHandlerContext, code: WebSocketErrorCode, reason: String) {
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        let channel = context.channel
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
        context.pipeline.fireUserInboundEventTriggered(CloseSentEvent())
        channel.writeAndFlush(frame).whenComplete { _ in channel.close(promise: nil) }
        channel.eventLoop.scheduleTask(in: grace) { channel.close(promise: nil) }
    }
}
