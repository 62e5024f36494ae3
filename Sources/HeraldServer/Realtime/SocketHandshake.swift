import NIOCore
import NIOHTTP1

/// A WebSocket handshake as ``SocketHandshakeHandler`` hands it to its endpoint: the request head and the peer,
/// without a Vapor `Request` (whose making cost a handshake more than its token check).
struct SocketHandshake {
    let head: HTTPRequestHead
    let peer: SocketAddress?

    var headers: HTTPHeaders { head.headers }

    /// The request target's query, as sent (still percent-encoded), or `nil` without one.
    var query: Substring? { RequestTarget.query(of: head.uri) }

    var path: Substring { RequestTarget.path(of: head.uri) }
}
