import Foundation
import Vapor

/// `/api/v1/ws` and `/api/v1/ws/status`. The socket route authenticates and reads `since` before the upgrade, but
/// reports token problems after it, as close codes a browser can read (SPEC §4: 4401).
struct RealtimeController: Sendable {
    static let version = "0.2.0"

    let verifier: TokenVerifier
    let membership: MembershipStore
    let services: RealtimeServices
    let registry: SocketRegistry
    let listener: NotifyListener
    let fanout: FanoutStore
    let instanceID: String
    let startedAt: Date
    let maxMessageBytes: Int
    let sendBufferBytes: Int
    let clients: ClientAddress

    func register(on api: any RoutesBuilder, conformanceEcho: Bool) {
        api.get("ws", use: connect).answering(.switchingProtocols, .badRequest, .tooManyRequests, .serviceUnavailable)
        api.get("ws", "status", use: status).answering(.ok)
        if conformanceEcho { api.get("ws", "echo", use: echo) }
    }

    /// The Autobahn testsuite's endpoint (`CONFORMANCE_ECHO=true`).
    func echo(_ request: Request) async throws -> Response {
        guard request.headers.first(name: .upgrade)?.lowercased() == "websocket" else {
            throw HeraldError.badRequest("WebSocket upgrade required")
        }
        let response = Response(status: .switchingProtocols)
        response.upgrader = ConformanceEchoUpgrader(maxMessageBytes: maxMessageBytes, sendBufferBytes: sendBufferBytes)
        return response
    }

    func connect(_ request: Request) async throws -> Response {
        guard request.headers.first(name: .upgrade)?.lowercased() == "websocket" else {
            throw HeraldError.badRequest("WebSocket upgrade required")
        }
        // While draining, refuse before the upgrade: a 503 lets nginx (proxy_next_upstream http_503) hand the
        // handshake to another instance at once, where a 1001 after it would cost the client a round trip.
        if registry.isDraining { throw HeraldError.goingAway("server is shutting down") }
        try services.handshakes.admit(address: clients.of(request))
        let query = QueryParameters(request)
        var failure: HeraldError?
        var principal = Principal(userID: "", locations: [], role: .user, scopes: [], expiresAt: 0)
        do {
            principal = try await verifier.verify(query.raw("token") ?? "")
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
        let response = Response(status: .switchingProtocols)
        response.upgrader = SessionUpgrader(
            principal: principal, authFailure: failure, since: since, maxMessageBytes: maxMessageBytes,
            sendBufferBytes: sendBufferBytes, services: services, registry: registry)
        return response
    }

    /// 6FB's status shape plus `instance` and `database`.
    func status(_ request: Request) async throws -> Response {
        let snapshot = try await registry.snapshot(on: request.eventLoop).get()
        let database = await fanout.isReachable()
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("status")
        writer.string("active")
        writer.key("connections")
        writer.beginObject()
        writer.key("total_users")
        writer.int(snapshot.users.count)
        writer.key("total_connections")
        writer.int(snapshot.connections)
        writer.key("by_location")
        writer.beginObject()
        for (location, count) in snapshot.byLocation.sorted(by: { $0.key < $1.key }) {
            writer.key(location)
            writer.int(count)
        }
        writer.endObject()
        writer.endObject()
        writer.key("instance")
        writer.beginObject()
        writer.key("id")
        writer.string(instanceID)
        writer.key("uptime")
        writer.double((Date().timeIntervalSince(startedAt) * 1000).rounded() / 1000)
        writer.key("version")
        writer.string(Self.version)
        writer.key("listener")
        writer.string(listener.isListening ? "listening" : "down")
        writer.endObject()
        writer.key("database")
        writer.string(database ? "ok" : "down")
        writer.endObject()
        return .json(.ok, writer)
    }
}
