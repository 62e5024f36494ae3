import NIOCore
import NIOWebSocket

/// The RFC 6455 closing handshake of one socket, as a value that decides and returns what to do; the frame layer
/// (``MessageAssembler``) owns it and carries out its actions.
///
/// Whoever closes first sends a close frame; the other answers with one, and then the connection goes. When we
/// close first and the peer can still talk, we wait for its answer, reading and discarding: closing at once would
/// leave its unread data in our receive buffer, and the kernel would answer with a reset that can destroy our
/// close frame before the peer reads it. A peer that is dead, not reading, or speaking garbage is not waited for.
/// Either way the connection goes after a grace period, so a closing socket cannot pin memory.
struct CloseHandshake {
    enum State: Equatable {
        case open
        /// Our close frame went out; the peer's answer ends the connection.
        case closeSent
        /// The peer's close frame came and ours answers it; the connection ends once it is written.
        case answering
    }

    enum Action: Equatable {
        /// Write a close frame with this code and reason, then close the connection at once (`closeAfterWrite`) or
        /// after the grace period unless the peer answers first.
        case sendClose(code: WebSocketErrorCode, reason: String, closeAfterWrite: Bool)
        /// Close the connection now.
        case closeConnection
        /// Nothing to do: the frame or request comes too late.
        case ignore
    }

    /// What a close frame from the peer says.
    enum Received: Equatable {
        /// A valid close, with its code (1005, "no status", when it carried none).
        case close(WebSocketErrorCode)
        /// A payload RFC 6455 forbids: one byte, a code no peer may send, or a reason that is not UTF-8.
        case invalid(WebSocketErrorCode, String)
    }

    private(set) var state = State.open

    /// Whether data frames from the peer still count: not once either side has started to close.
    var isOpen: Bool { state == .open }

    /// We want to close (a session's decision, or a protocol error with `peerCanAnswer: false`).
    mutating func close(code: WebSocketErrorCode, reason: String, peerCanAnswer: Bool) -> Action {
        guard state == .open else { return .ignore }
        state = .closeSent
        return .sendClose(code: code, reason: reason, closeAfterWrite: !peerCanAnswer)
    }

    /// The peer's close frame arrived.
    mutating func received(_ frame: Received) -> Action {
        switch (state, frame) {
        case (.open, .close(let code)):
            state = .answering
            // The answer echoes the code (RFC 6455 §5.5.1); "no status" is not a code one may send.
            let echoed = UInt16(webSocketErrorCode: code) == 1005 ? WebSocketErrorCode.normalClosure : code
            return .sendClose(code: echoed, reason: "", closeAfterWrite: true)
        case (.open, .invalid(let code, let reason)):
            state = .closeSent
            return .sendClose(code: code, reason: reason, closeAfterWrite: true)
        case (.closeSent, _):
            return .closeConnection
        case (.answering, _):
            return .ignore
        }
    }

    /// Reads a close frame's payload (RFC 6455 §5.5.1, §7.4).
    static func parse(_ payload: ByteBuffer) -> Received {
        var data = payload
        guard data.readableBytes != 1 else { return .invalid(.protocolError, "bad close payload") }
        guard data.readableBytes >= 2, let code = data.readWebSocketErrorCode() else {
            return .close(WebSocketErrorCode(codeNumber: 1005))
        }
        guard isValidReceivedCode(code) else { return .invalid(.protocolError, "bad close code") }
        guard data.readString(length: data.readableBytes, encoding: .utf8) != nil else {
            return .invalid(.dataInconsistentWithMessage, "close reason is not UTF-8")
        }
        return .close(code)
    }

    /// Codes a peer may send (RFC 6455 §7.4): 1000–1003, 1007–1011, and 3000–4999.
    private static func isValidReceivedCode(_ code: WebSocketErrorCode) -> Bool {
        let number = Int(UInt16(webSocketErrorCode: code))
        return [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011].contains(number) || (3000...4999).contains(number)
    }
}
