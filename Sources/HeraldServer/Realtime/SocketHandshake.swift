import NIOCore
import NIOHTTP1

/// A WebSocket handshake as ``SocketHandshakeHandler`` hands it to its endpoint: the request head and the peer,
/// without a Vapor `Request` (whose making cost a handshake more than its token check).
struct SocketHandshake {
    let head: HTTPRequestHead
    let peer: SocketAddress?

    var headers: HTTPHeaders { head.headers }

    /// The request target's query, as sent (still percent-encoded), or `nil` without one.
    ///
    /// The target is searched as UTF-8, not as `Character`s: a handshake's target carries its token, and breaking
    /// a few hundred bytes into grapheme clusters, once for the path and once for the query, was 5 % of a
    /// handshake's CPU. `?` and `#` are ASCII, so they never fall inside a multi-byte character.
    /// A `?` inside the fragment starts no query.
    var query: Substring? {
        let uri = head.uri.utf8
        guard let mark = uri.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }),
            uri[mark] == UInt8(ascii: "?")
        else { return nil }
        let rest = uri[uri.index(after: mark)...]
        return Substring(rest.firstIndex(of: UInt8(ascii: "#")).map { rest[..<$0] } ?? rest)
    }

    var path: Substring { Self.path(of: head.uri) }

    /// A request target's path: what comes before its query or fragment.
    static func path(of uri: String) -> Substring {
        let end = uri.utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? uri.utf8.endIndex
        return Substring(uri.utf8[..<end])
    }
}
