/// What ``MessageAssembler`` hands the session: whole messages, and a sign of life for every pong.
enum InboundMessage {
    case text(String)
    case binary
    case pong
}
