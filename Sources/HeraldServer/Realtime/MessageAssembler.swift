import NIOCore
import NIOWebSocket

/// The frame layer: the RFC 6455 rules between NIOWebSocket's frame decoder (below, inbound), ``WireFrameEncoder``
/// (below, outbound) and the session above, which sees only whole messages. It joins fragments into messages up
/// to `WS_MAX_MESSAGE_BYTES` (1009 past it), checks text is UTF-8 (1007), refuses malformed frames (1002),
/// answers pings, and owns the closing handshake (``CloseHandshake``): the session asks for a close with a
/// ``CloseRequest`` and learns that one began from ``SocketClosing``. Once it has, data frames no longer pass in
/// either direction.
///
/// With `permessage-deflate` agreed, a message whose first frame has RSV1 set is compressed (RFC 7692 §6): its
/// fragments are joined as they are, then inflated whole by the loop's ``DeflateCodec``, to no more than
/// `WS_MAX_MESSAGE_BYTES` (1009 past it, 1007 for bytes that do not inflate).
package final class MessageAssembler: ChannelDuplexHandler {
    package typealias InboundIn = WebSocketFrame
    package typealias InboundOut = InboundMessage
    package typealias OutboundIn = WireFrame
    package typealias OutboundOut = WireFrame

    /// How long a closing socket may stay open waiting for the peer's close frame.
    static let grace: TimeAmount = .seconds(2)

    private let maxMessageBytes: Int
    /// The loop's codec, if the socket agreed to `permessage-deflate`.
    private let inflater: DeflateCodec?
    private var fragments: ByteBuffer?
    private var fragmentOpcode: WebSocketOpcode = .text
    /// Whether the message being joined is compressed: its UTF-8 is checked once inflated, not per fragment.
    private var compressed = false
    private var utf8 = UTF8Validator()
    private var handshake = CloseHandshake()

    package init(maxMessageBytes: Int, inflater: DeflateCodec? = nil) {
        self.maxMessageBytes = maxMessageBytes
        self.inflater = inflater
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        // Once closing, only the peer's close frame matters; everything else is read and dropped.
        if !handshake.isOpen && frame.opcode != .connectionClose { return }
        // RSV1 belongs to permessage-deflate, where agreed, and only on a message's first frame (RFC 7692 §6.1);
        // no extension uses the other two (RFC 6455 §5.2).
        if frame.rsv2 || frame.rsv3 { return fail(context, .protocolError, "reserved bits set") }
        if frame.rsv1, inflater == nil || !(frame.opcode == .text || frame.opcode == .binary) {
            return fail(context, .protocolError, "reserved bits set")
        }
        switch frame.opcode {
        case .ping:
            guard frame.fin else { return fail(context, .protocolError, "fragmented ping") }
            var pong = frame.unmaskedData
            if pong.readableBytes > 125 { return fail(context, .protocolError, "ping too long") }
            pong = context.channel.allocator.buffer(buffer: pong)
            context.writeAndFlush(
                wrapOutboundOut(.frame(WebSocketFrame(fin: true, opcode: .pong, data: pong))), promise: nil)
        case .pong:
            context.fireChannelRead(wrapInboundOut(.pong))
        case .connectionClose:
            receivedClose(context, frame)
        case .text, .binary:
            guard fragments == nil else { return fail(context, .protocolError, "new message inside a fragmented one") }
            compressed = frame.rsv1
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
            // Taken out while it grows: a second reference would make every fragment copy the whole message.
            fragments = nil
            var data = frame.unmaskedData
            guard checkText(context, data) else { return }
            buffer.writeBuffer(&data)
            fragments = buffer
            guard checkSize(context) else { return }
            if frame.fin, !compressed, fragmentOpcode == .text, !utf8.isComplete {
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
        guard fragmentOpcode == .text, !compressed, !utf8.feed(data.readableBytesView) else { return true }
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
        var payload = payload
        if compressed, let inflater {
            compressed = false
            do throws(DeflateCodec.InflateFailure) {
                payload = try inflater.inflate(payload, limit: maxMessageBytes)
            } catch {
                switch error {
                case .tooLarge:
                    fail(context, .messageTooLarge, "message larger than \(maxMessageBytes) bytes once inflated")
                case .corrupt:
                    fail(context, .dataInconsistentWithMessage, "compressed message does not inflate")
                }
                return
            }
        }
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

    /// The peer's close frame: the handshake decides whether to answer it or end the connection.
    private func receivedClose(_ context: ChannelHandlerContext, _ frame: WebSocketFrame) {
        let received = CloseHandshake.parse(frame.unmaskedData)
        let action = handshake.received(received)
        if case .sendClose(let code, _, _) = action {
            let byPeer = if case .close = received { true } else { false }
            context.fireUserInboundEventTriggered(SocketClosing(code: code, initiatedByPeer: byPeer))
        }
        perform(action, context)
    }

    /// A frame the stream cannot recover from: close without waiting for an answer.
    private func fail(_ context: ChannelHandlerContext, _ code: WebSocketErrorCode, _ reason: String) {
        fragments = nil
        close(context, CloseRequest(code: code, reason: reason, peerCanAnswer: false))
    }

    private func close(_ context: ChannelHandlerContext, _ request: CloseRequest) {
        let action = handshake.close(code: request.code, reason: request.reason, peerCanAnswer: request.peerCanAnswer)
        if case .sendClose(let code, _, _) = action {
            context.fireUserInboundEventTriggered(SocketClosing(code: code, initiatedByPeer: false))
        }
        perform(action, context)
    }

    private func perform(_ action: CloseHandshake.Action, _ context: ChannelHandlerContext) {
        switch action {
        case .sendClose(let code, let reason, let closeAfterWrite):
            var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
            data.write(webSocketErrorCode: code)
            data.writeString(reason)
            let channel = context.channel
            let written = context.writeAndFlush(
                wrapOutboundOut(.frame(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))))
            if closeAfterWrite { written.whenComplete { _ in channel.close(promise: nil) } }
            // Whatever happens to the frame (a peer that reads nothing leaves it queued for ever), the connection
            // goes after the grace period.
            channel.eventLoop.scheduleTask(in: Self.grace) { channel.close(promise: nil) }
        case .closeConnection:
            context.close(promise: nil)
        case .ignore:
            break
        }
    }

    // MARK: Outbound

    /// Data frames stop once the closing handshake has begun; control frames (our ping) still go.
    package func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard handshake.isOpen || !unwrapOutboundIn(data).isData else {
            promise?.fail(ChannelError.outputClosed)
            return
        }
        context.write(data, promise: promise)
    }

    package func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?)
    {
        guard let request = event as? CloseRequest else {
            return context.triggerUserOutboundEvent(event, promise: promise)
        }
        close(context, request)
        promise?.succeed()
    }

    /// The frame decoder's refusals: a frame too large for `WS_MAX_MESSAGE_BYTES` (1009), a fragmented or long
    /// control frame (1002).
    package func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error as? NIOWebSocketError {
        case .invalidFrameLength?:
            fail(context, .messageTooLarge, "frame larger than \(maxMessageBytes) bytes")
        case .fragmentedControlFrame?, .multiByteControlFrameLength?:
            fail(context, .protocolError, "malformed control frame")
        case nil:
            context.fireErrorCaught(error)
        }
    }
}
