import Foundation
import Vapor

/// `/api/v1/ws` and `/api/v1/ws/status`. The socket's handshake authenticates and reads `since` before the
/// upgrade, but reports token problems after it, as close codes a browser can read (4401).
struct RealtimeController: Sendable {
    static let version = "0.2.0"

    let verifier: TokenVerifier
    let membership: MembershipStore
    let services: RealtimeServices
    let registry: SocketRegistry
    let listener: NotifyListener
    let fanout: FanoutStore
    let node: ClusterNode
    let clusterStatus: ClusterStatus
    let maxMessageBytes: Int
    let sendBufferBytes: Int
    /// The loops' compression codecs; `nil` when `WS_COMPRESSION=false`.
    let deflate: DeflateCodecs?
    let clients: ClientAddress

    /// The handshakes go to `sockets` (``SocketHandshakeHandler`` answers them ahead of Vapor); Vapor keeps a
    /// route for each path, which describes it and answers a plain `GET` there with 400. The status goes on `api`.
    func register(
        sockets: inout SocketEndpoints, routes: any RoutesBuilder, on api: any RoutesBuilder, conformanceEcho: Bool
    ) {
        sockets.register("api/v1/ws") { handshake in try connect(handshake) }
        routes.get("ws", use: Self.notAHandshake).answering(
            .switchingProtocols, .badRequest, .tooManyRequests, .serviceUnavailable)
        api.on(.GET, "ws", "status", task: status).answering(.ok)
        if conformanceEcho {
            sockets.register("api/v1/ws/echo") { handshake in echo(handshake) }
            routes.get("ws", "echo", use: Self.notAHandshake)
        }
    }

    /// What Vapor answers at a socket path: the request was not a WebSocket handshake.
    @Sendable static func notAHandshake(_ request: Request) throws -> Response {
        throw HeraldError.badRequest("WebSocket upgrade required")
    }

    /// The Autobahn testsuite's endpoint (`CONFORMANCE_ECHO=true`): no token, and a ``ConformanceEchoHandler``
    /// where a socket would have its ``SessionHandler``.
    func echo(_ handshake: SocketHandshake) -> SocketProtocolUpgrader {
        SocketProtocolUpgrader(
            offers: handshake.headers["Sec-WebSocket-Extensions"], maxMessageBytes: maxMessageBytes,
            sendBufferBytes: sendBufferBytes, deflate: deflate
        ) { _ in ConformanceEchoHandler() }
    }

    /// A handshake for `/api/v1/ws`, on the socket's event loop. What a status says better than a close code is
    /// refused before the upgrade; the token's problems are reported after it, as close codes a browser can read.
    func connect(_ handshake: SocketHandshake) throws -> SocketProtocolUpgrader {
        // While draining, refuse before the upgrade: a 503 lets nginx (proxy_next_upstream http_503) hand the
        // handshake to another instance at once, where a 1001 after it would cost the client a round trip.
        if registry.isDraining { throw HeraldError.goingAway("server is shutting down") }
        let address = clients.of(peer: handshake.peer, headers: handshake.headers)
        try services.handshakes.admit(address: address)
        let query = QueryParameters(query: handshake.query)
        var failure: HeraldError?
        var principal = Principal(userID: "", locations: [], role: .user, scopes: [], expiresAt: 0)
        do {
            principal = try verifier.verify(query.raw("token") ?? "")
            membership.remember(principal)
        } catch let error as HeraldError {
            failure = error
        }
        var since: Int64?
        if failure == nil, let raw = query.raw("since") {
            if let value = Int64(raw), value >= 0 {
                since = value
            } else {
                failure = .validation([.query("since", "since must be a non-negative integer", type: "int_parsing")])
            }
        }
        let agent = handshake.headers.first(name: "user-agent").map { String($0.prefix(256)) }
        let services = services
        let registry = registry
        return SocketProtocolUpgrader(
            offers: handshake.headers["Sec-WebSocket-Extensions"], maxMessageBytes: maxMessageBytes,
            sendBufferBytes: sendBufferBytes, deflate: deflate
        ) { [principal, failure, since] channel in
            guard let shard = registry.shard(for: channel.eventLoop) else {
                throw HeraldError.unavailable("no registry for this event loop")
            }
            return SessionHandler(
                principal: principal, authFailure: failure, since: since,
                handshake: (clientAddress: address, userAgent: agent), services: services, registry: registry,
                shard: shard)
        }
    }

    /// 6FB's status shape with the whole cluster's totals (every instance holding its lease), plus `instance`
    /// (this one), `instances` (all of them) and `database`. The cluster's part is read at most once a second
    /// (``ClusterStatus``); while PostgreSQL cannot be read it is this instance's own, and `scope` says so.
    func status(_ request: Request) async throws -> Response {
        let local = try await registry.snapshot(on: request.eventLoop).get()
        let cluster = await clusterStatus.current()
        let database = cluster != nil ? true : await fanout.isReachable()
        let now = Date()
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("status")
        writer.string("active")
        writer.key("scope")
        writer.string(cluster == nil ? "instance" : "cluster")
        writer.key("connections")
        writer.beginObject()
        writer.key("total_users")
        writer.int(cluster?.totals.users ?? local.users.count)
        writer.key("total_connections")
        writer.int(cluster?.totals.connections ?? local.connections)
        writer.key("by_location")
        writer.beginObject()
        for (location, count) in (cluster?.totals.byLocation ?? local.byLocation).sorted(by: { $0.key < $1.key }) {
            writer.key(location)
            writer.int(count)
        }
        writer.endObject()
        writer.endObject()
        writer.key("instance")
        writer.beginObject()
        writer.key("id")
        writer.string(node.instanceID)
        writer.key("uptime")
        writer.double((now.timeIntervalSince(node.startedAt) * 1000).rounded() / 1000)
        writer.key("version")
        writer.string(Self.version)
        writer.key("listener")
        writer.string(listener.isListening ? "listening" : "down")
        writer.key("connections")
        writer.int(local.connections)
        writer.endObject()
        writer.key("instances")
        writer.beginArray()
        for instance in cluster?.instances ?? [] {
            writer.beginObject()
            writer.key("id")
            writer.string(instance.instanceID)
            writer.key("connections")
            writer.int(instance.connections)
            writer.key("uptime")
            writer.double((now.timeIntervalSince(instance.startedAt) * 1000).rounded() / 1000)
            writer.key("listener")
            writer.string(instance.listening ? "listening" : "down")
            writer.key("last_seen")
            writer.string(Timestamp.string(instance.seenAt))
            writer.endObject()
        }
        writer.endArray()
        writer.key("database")
        writer.string(database ? "ok" : "down")
        writer.endObject()
        return .json(.ok, writer)
    }
}
