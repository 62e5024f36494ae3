import Logging
import NIOHTTP1

/// The paths whose WebSocket handshakes ``SocketHandshakeHandler`` answers, each with what answers it: the
/// pipeline to build (``SocketProtocolUpgrader``), or a ``HeraldError`` to refuse with before the upgrade.
struct SocketEndpoints: Sendable {
    typealias Accept = @Sendable (SocketHandshake) throws -> SocketProtocolUpgrader

    private var routes: [String: Accept] = [:]
    let clients: ClientAddress
    let logger: Logger
    let metrics: HeraldMetrics

    init(clients: ClientAddress, logger: Logger, metrics: HeraldMetrics) {
        self.clients = clients
        self.logger = logger
        self.metrics = metrics
    }

    /// Serves handshakes at `path` (`"api/v1/ws"`), matched as Vapor's router matches it: by its non-empty
    /// components, so `/api/v1/ws/` is the same path.
    mutating func register(_ path: String, accept: @escaping Accept) {
        routes[Self.key(path[...])] = accept
    }

    /// The endpoint for `head`, when it is a WebSocket handshake (`GET` with `Upgrade: websocket` and
    /// `Connection: upgrade`) for one of the paths. Anything else goes on to Vapor.
    func endpoint(for head: HTTPRequestHead) -> Accept? {
        guard head.method == .GET, !routes.isEmpty else { return nil }
        guard let accept = routes[Self.key(RequestTarget.path(of: head.uri))] else { return nil }
        let upgrade = head.headers[canonicalForm: "upgrade"].contains { $0.lowercased() == "websocket" }
        let connection = head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
        return upgrade && connection ? accept : nil
    }

    private static func key(_ path: Substring) -> String {
        path.split(separator: "/").joined(separator: "/")
    }
}
