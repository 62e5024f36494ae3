import NIOWebSocket

/// What goes down the pipeline towards the socket, to ``WireFrameEncoder``: a frame to encode, or one already
/// encoded once for all its recipients (``EncodedFrame``), whose bytes go out as they are. Both pass through the
/// frame layer (``MessageAssembler``), which drops data frames once the closing handshake has begun.
package enum WireFrame {
    case frame(WebSocketFrame)
    case encoded(EncodedFrame)

    /// Whether this is a data frame (text or binary), which may not follow a close frame (RFC 6455 §5.5.1).
    var isData: Bool {
        switch self {
        case .encoded: true
        case .frame(let frame): frame.opcode == .text || frame.opcode == .binary || frame.opcode == .continuation
        }
    }
}
