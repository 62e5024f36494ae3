import NIOCore
import NIOWebSocket

/// Echoes every message back, for the Autobahn testsuite (`CONFORMANCE_ECHO=true` only). It sits on the same
/// frame layer as ``SessionHandler`` (``SocketProtocolUpgrader``),
/// so the suite tests the code that serves `/api/v1/ws`: fragments, limits, UTF-8, control frames, closing.
final class ConformanceEchoHandler: ChannelInboundHandler {
    typealias InboundIn = InboundMessage
    typealias OutboundOut = WireFrame

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame: WebSocketFrame
        switch unwrapInboundIn(data) {
        case .text(let text):
            frame = WebSocketFrame(fin: true, opcode: .text, data: context.channel.allocator.buffer(string: text))
        case .binary(let payload):
            frame = WebSocketFrame(fin: true, opcode: .binary, data: payload)
        case .pong:
            return
        }
        context.writeAndFlush(wrapOutboundOut(.frame(frame)), promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
