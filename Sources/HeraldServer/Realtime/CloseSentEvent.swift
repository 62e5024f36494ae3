import NIOWebSocket

/// Tells ``MessageAssembler`` that a close frame already went out, so the peer's reply just ends the connection,
/// and tells ``SessionHandler`` which code it carried (for `herald_closes_total`).
struct CloseSentEvent {
    let code: WebSocketErrorCode
}
