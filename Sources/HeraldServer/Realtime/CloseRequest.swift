import NIOWebSocket

/// Asks the frame layer (``MessageAssembler``) to close the socket, as an outbound user event: it sends the close
/// frame unless the closing handshake has already begun, waits for the peer's answer when `peerCanAnswer`, and
/// drops the connection after the grace period either way (``CloseHandshake``).
struct CloseRequest {
    let code: WebSocketErrorCode
    let reason: String
    /// `false` for a peer that is dead, not reading or speaking garbage: the connection goes once the frame is
    /// written.
    let peerCanAnswer: Bool
}
