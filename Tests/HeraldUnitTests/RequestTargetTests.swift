import NIOHTTP1
import Testing

@testable import HeraldServer

/// Where a request target's path ends and its query begins: for a handshake the path picks the endpoint and the
/// query carries the token; for a request answered ahead of Vapor the path picks the route.
@Suite("Request target")
struct RequestTargetTests {
    private func handshake(_ uri: String) -> SocketHandshake {
        SocketHandshake(head: HTTPRequestHead(version: .http1_1, method: .GET, uri: uri), peer: nil)
    }

    @Test(
        "the path stops at the query or the fragment; the query stops at the fragment",
        arguments: [
            ("/api/v1/ws?token=a.b.c&since=5", "/api/v1/ws", "token=a.b.c&since=5"),
            ("/api/v1/ws", "/api/v1/ws", nil),
            ("/api/v1/ws?", "/api/v1/ws", ""),
            ("/api/v1/ws?token=x#y", "/api/v1/ws", "token=x"),
            ("/api/v1/ws#frag?token=x", "/api/v1/ws", nil),
            ("/ünï/ws?tøken=ä#ß", "/ünï/ws", "tøken=ä"),
            ("?token=x", "", "token=x"),
        ] as [(String, String, String?)])
    func target(uri: String, path: String, query: String?) {
        let parts = handshake(uri)
        #expect(parts.path == path[...])
        #expect(parts.query == query.map { $0[...] })
        #expect(RequestTarget.path(of: uri) == path[...])
        #expect(RequestTarget.query(of: uri) == query.map { $0[...] })
    }
}
