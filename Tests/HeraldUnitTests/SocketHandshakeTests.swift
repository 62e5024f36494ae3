import NIOHTTP1
import Testing

@testable import HeraldServer

/// Where a handshake's path ends and its query begins: the path picks the endpoint, the query carries the token.
@Suite("Socket handshake target")
struct SocketHandshakeTests {
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
        #expect(SocketHandshake.path(of: uri) == path[...])
    }
}
