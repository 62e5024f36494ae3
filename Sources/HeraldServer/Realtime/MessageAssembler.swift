import NIOCore
import NIOWebSocket

/// The RFC 6455 layer above NIOWebSocket's frame codec: joins fragments into messages up to
/// `WS_MAX_MESSAGE_BYTES` (1009 past it), checks text is UTF-8 (1007), answers pings, and completes the close
/// handshake. The session above it sees only whole messages.
package final class MessageAssembler: ChannelInboundHandler {
    package typealias InboundIn = WebSocketFrame
    package typealias InboundOut = InboundMessage
    package typealias OutboundOut = WebSocketFrame

    private let maxMessageBytes: Int
    private var fragments: ByteBuffer?
    private var fragmentOpcode: WebSocketOpcode = .text
    private var utf8 = UTF8Validator()
    private var closeSent = false

    package init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // After our close frame only the peer's close matters; everything else is read and dropped.
        if closeSent && frame.opcode != .connectionClose { return }
        // No extension is negotiated, so every reserved bit must be clear (RFC 6455 §5.2).
        if frame.rsv1 || frame.rsv2 || frame.rsv3 { return fail(context, .protocolError, "reserved bits set") }
        switch frame.opcode {
        case .ping:
            guard frame.fin else { return fail(context, .protocolError, "fragmented ping") }
            var pong = frame.unmaskedData
            if pong.readableBytes > 125 { return fail(context, .protocolError, "ping too long") }
            pong = context.channel.allocator.buffer(buffer: pong)
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: pong)), promise: nil)
        case .pong:
            context.fireChannelRead(wrapInboundOut(.pong))
        case .connectionClose:
            receivedClose(context, frame)
        case .text, .binary:
            guard fragments == nil else { return fail(context, .protocolError, "new message inside a fragmented one") }
            if frame.fin {
                deliver(context, opcode: frame.opcode, payload: frame.unmaskedData)
            } else {
                fragmentOpcode = frame.opcode
                fragments = frame.unmaskedData
                utf8 = UTF8Validator()
                guard checkSize(context), checkText(context, frame.unmaskedData) else { return }
            }
        case .continuation:
            guard var buffer = fragments else { return fail(context, .protocolError, "continuation without a message") }
            var data = frame.unmaskedData
            guard checkText(context, data) else { return }
            buffer.writeBuffer(&data)
            fragments = buffer
            guard checkSize(context) else { return }
            if frame.fin, fragmentOpcode == .text, !utf8.isComplete {
                fragments = nil
                return fail(context, .dataInconsistentWithMessage, "text message is not valid UTF-8")
            }
            if frame.fin {
                fragments = nil
                deliver(context, opcode: fragmentOpcode, payload: buffer)
            }
        default:
            fail(context, .protocolError, "unknown opcode")
        }
    }

    /// Validates a fragment of a text message as it arrives, so bad UTF-8 is refused without waiting for the rest.
    private func checkText(_ context: ChannelHandlerContext, _ data: ByteBuffer) -> Bool {
        guard fragmentOpcode == .text, !utf8.feed(data.readableBytesView) else { return true }
        fragments = nil
        fail(context, .dataInconsistentWithMessage, "text message is not valid UTF-8")
        return false
    }

    @discardableResult
    private func checkSize(_ context: ChannelHandlerContext) -> Bool {
        guard let fragments, fragments.readableBytes > maxMessageBytes else { return true }
        self.fragments = nil
        fail(context, .messageTooLarge, "message larger than \(maxMessageBytes) bytes")
        return false
    }

    private func deliver(_ context: ChannelHandlerContext, opcode: WebSocketOpcode, payload: ByteBuffer) {
        guard payload.readableBytes <= maxMessageBytes else {
            return fail(context, .messageTooLarge, "message larger than \(maxMessageBytes) bytes")
        }
        if opcode == .binary {
            context.fireChannelRead(wrapInboundOut(.binary(payload)))
            return
        }
        guard let text = payload.getString(at: payload.readerIndex, length: payload.readableBytes, encoding: .utf8)
        else {
            return fail(context, .dataInconsistentWithMessage, "text message is not valid UTF-8")
        }
        context.fireChannelRead(wrapInboundOut(.text(text)))
    }

    /// The peer's close: answer with the same code (RFC 6455 §5.5.1), then drop the connection.
    private func receivedClose(_ context: ChannelHandlerContext, _ frame: WebSocketFrame) {
        guard !closeSent else {
            context.close(promise: nil)
            return
        }
        var data = frame.unmaskedData
        var code: WebSocketErrorCode = .normalClosure
        if data.readableBytes == 1 { return fail(context, .protocolError, "bad close payload") }
        if data.readableBytes >= 2, let received = data.readWebSocketErrorCode() {
            guard Self.isValidReceivedCloseCode(received) else {
                return fail(context, .protocolError, "bad close code")
            }
            guard data.readString(length: data.readableBytes, encoding: .utf8) != nil else {
                return fail(context, .dataInconsistentWithMessage, "close reason is not UTF-8")
            }
            code = received
        }
        closeSent = true
        context.fireUserInboundEventTriggered(PeerClosedEvent())
        var reply = context.channel.allocator.buffer(capacity: 2)
        reply.write(webSocketErrorCode: code)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: reply)))
            .whenComplete { _ in context.close(promise: nil) }
    }

    /// Codes a peer may send (RFC 6455 §7.4): 1000–1003, 1007–1011, and 3000–4999.
    private static func isValidReceivedCloseCode(_ code: WebSocketErrorCode) -> Bool {
        let number = Int(UInt16(webSocketErrorCode: code))
        return [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011].contains(number) || (3000...4999).contains(number)
    }

    private func fail(_ context: ChannelHandlerContext, _ code: WebSocketErrorCode, _ reason: String) {
        guard !closeSent else { return }
        closeSent = true
        // The stream can no longer be parsed reliably, so waiting for the peer's close frame is pointless.
        WebSocketCloser.close(context: context, code: code, reason: reason, awaitReply: false)
    }

    /// Sessions close through here too, so the handshake state stays in one handler.
    package func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is CloseSentEvent { closeSent = true }
        context.fireUserInboundEventTriggered(event)
    }
}
