import NIOWebSocket

/// Tells the handler above the frame layer that the closing handshake has begun, with whose close frame: ours
/// (with the code it carries) or the peer's. ``SessionHandler`` counts it in `herald_closes_total`.
package struct SocketClosing {
    package let code: WebSocketErrorCode
    package let initiatedByPeer: Bool
}
