import NIOCore
import NIOHTTP1

/// A WebSocket handshake as ``SocketHandshakeHandler`` hands it to its endpoint: the request head and the peer,
/// without a Vapor `Request` (whose making cost a handshake more than its token check).
struct SocketHandshake {
    let head: HTTPRequestHead
    let peer: SocketAddress?

    var headers: HTTPHeaders { head.headers }

    /// The request target's query, as sent (still percent-encoded), or `nil` without one.
    var query: Substring? {
        guard let mark = head.uri.firstIndex(of: "?") else { return nil }
        let rest = head.uri[head.uri.index(after: mark)...]
        return rest.firstIndex(of: "#").map { rest[..<$0] } ?? rest
    }

    var path: Substring { Self.path(of: head.uri) }

    /// A request target's path: what comes before its query or fragment.
    static func path(of uri: String) -> Substring {
        uri.prefix { $0 != "?" && $0 != "#" }
    }
}
