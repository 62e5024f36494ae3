import NIOCore

/// What ``MessageAssembler`` hands the session: whole messages, and a sign of life for every pong.
package enum InboundMessage {
    case text(String)
    case binary(ByteBuffer)
    case pong
}
