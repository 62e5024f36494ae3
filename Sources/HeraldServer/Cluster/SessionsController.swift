import Foundation
import Vapor

/// The operators' view of sockets across the cluster: listing them, closing one or all of a user's with 4410
/// (disconnected by an operator: the client does not reconnect on its own), revoking a user's tokens, and who is
/// online at a location. What it reads is every instance's, through PostgreSQL (``ClusterStore``); what it closes
/// is closed by the instance holding the socket, told on the NOTIFY channel.
///
/// Who may: admins (and, to revoke, the publish scope of backend services) anything; staff only for users at
/// their own locations, as for publishing; everyone else 403.
struct SessionsController: Sendable {
    let cluster: ClusterStore
    let membership: MembershipStore
    let fanout: FanoutStore
    let revocations: RevocationStore
    let metrics: HeraldMetrics

    func register(on api: any RoutesBuilder) {
        api.on(.GET, "ws", "sessions", task: list)
            .answering(.ok, .unauthorized, .forbidden, .unprocessableEntity, .serviceUnavailable)
        api.on(.DELETE, "ws", "sessions", ":session_id", task: disconnect)
            .answering(.accepted, .unauthorized, .forbidden, .notFound, .unprocessableEntity, .serviceUnavailable)
        api.on(.DELETE, "users", ":user_id", "sessions", task: disconnectUser)
            .answering(.accepted, .unauthorized, .forbidden, .unprocessableEntity, .serviceUnavailable)
        api.on(.POST, "users", ":user_id", "revoke", task: revoke)
            .answering(.ok, .unauthorized, .forbidden, .unprocessableEntity, .serviceUnavailable)
        api.on(.GET, "locations", ":location_id", "presence", task: presence)
            .answering(.ok, .unauthorized, .forbidden, .unprocessableEntity, .serviceUnavailable)
    }

    // MARK: Handlers

    func list(_ request: Request) async throws -> Response {
        let principal = try request.principal
        let query = QueryParameters(request)
        var issues: [ValidationIssue] = []
        let userID = query.string("user_id", maxLength: 200, &issues)
        let locationID = query.string("location_id", maxLength: 200, &issues)
        if userID == nil, locationID == nil {
            issues.append(.query("user_id", "user_id or location_id is required", type: "missing"))
        }
        guard issues.isEmpty else { throw HeraldError.validation(issues) }
        if let locationID { try authorize(principal, at: locationID) }
        if let userID, locationID == nil { try await authorize(principal, over: userID) }
        let sessions = try await cluster.sessions(userID: userID, locationID: locationID)
        return Self.json(.ok) { writer in
            writer.key("sessions")
            writer.beginArray()
            for session in sessions { Self.write(session, to: &writer) }
            writer.endArray()
        }
    }

    func disconnect(_ request: Request) async throws -> Response {
        let principal = try request.principal
        guard let raw = request.parameters.get("session_id"), let id = UUID(uuidString: raw) else {
            throw HeraldError.validation([
                .init([.name("path"), .name("session_id")], "Input should be a valid UUID", type: "uuid_parsing")
            ])
        }
        guard let session = try await cluster.session(id) else { throw HeraldError.notFound("Session not found") }
        try await authorize(principal, over: session.userID)
        try await fanout.notify(
            .closeSockets(
                SocketCloseOrder(
                    target: .sockets(incarnation: session.incarnation, localIDs: [session.localID]),
                    code: UInt16(webSocketErrorCode: HeraldError.disconnected("").closeCode),
                    reason: "disconnected by an operator")))
        return Self.json(.accepted) { writer in
            writer.key("message")
            writer.string("Session closing")
            writer.key("session_id")
            writer.string(id.lowercasedString)
        }
    }

    func disconnectUser(_ request: Request) async throws -> Response {
        let principal = try request.principal
        let userID = try Self.userID(request)
        try await authorize(principal, over: userID)
        let count = try await cluster.sessions(userID: userID, locationID: nil).count
        try await fanout.notify(
            .closeSockets(
                SocketCloseOrder(
                    target: .user(userID), code: UInt16(webSocketErrorCode: HeraldError.disconnected("").closeCode),
                    reason: "disconnected by an operator")))
        return Self.json(.accepted) { writer in
            writer.key("message")
            writer.string("Sessions closing")
            writer.key("closing")
            writer.int(count)
        }
    }

    func revoke(_ request: Request) async throws -> Response {
        let principal = try request.principal
        guard principal.publishesAnywhere else {
            throw HeraldError.forbidden("Only admins and services may revoke tokens")
        }
        let userID = try Self.userID(request)
        let before = try await revocations.revoke(userID, by: principal.userID)
        metrics.revoked()
        return Self.json(.ok) { writer in
            writer.key("message")
            writer.string("Tokens issued before revoked_before are refused")
            writer.key("user_id")
            writer.string(userID)
            writer.key("revoked_before")
            writer.string(Timestamp.string(Date(timeIntervalSince1970: before)))
        }
    }

    func presence(_ request: Request) async throws -> Response {
        let principal = try request.principal
        let locationID = try Self.pathID("location_id", request)
        try authorize(principal, at: locationID)
        let users = try await cluster.presence(at: locationID)
        return Self.json(.ok) { writer in
            writer.key("location_id")
            writer.string(locationID)
            writer.key("users")
            writer.beginArray()
            for user in users {
                writer.beginObject()
                writer.key("user_id")
                writer.string(user.userID)
                writer.key("sockets")
                writer.int(user.sockets)
                writer.key("connected_at")
                writer.string(Timestamp.string(user.since))
                writer.endObject()
            }
            writer.endArray()
        }
    }

    // MARK: Access

    /// Admins, and staff of `locationID`.
    private func authorize(_ principal: Principal, at locationID: String) throws {
        if principal.role == .admin { return }
        guard principal.role == .staff, principal.locations.contains(locationID) else {
            throw HeraldError.forbidden("Only admins and staff of this location may see its sessions")
        }
    }

    /// Admins, and staff of a location the user was last seen at.
    private func authorize(_ principal: Principal, over userID: String) async throws {
        if principal.role == .admin { return }
        guard principal.role == .staff, !principal.locations.isEmpty,
            try await membership.users([userID], atAnyOf: principal.locations).contains(userID)
        else {
            throw HeraldError.forbidden("Only admins and staff of the user's locations may manage their sessions")
        }
    }

    // MARK: Writing

    private static func userID(_ request: Request) throws -> String {
        try pathID("user_id", request)
    }

    /// A user or location id from the path: 1 to 200 characters, no NUL and no `/` (which only an encoded path
    /// could carry), or 422 like every other malformed parameter.
    private static func pathID(_ name: String, _ request: Request) throws -> String {
        guard let id = request.parameters.get(name), !id.isEmpty, id.unicodeScalars.count <= 200,
            !id.utf8.contains(0), !id.contains("/")
        else {
            throw HeraldError.validation([
                .init(
                    [.name("path"), .name(name)], "String should have 1 to 200 characters, without NUL or /",
                    type: "string_type")
            ])
        }
        return id
    }

    static func write(_ session: ClusterStore.Session, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("session_id")
        writer.string(session.sessionID.lowercasedString)
        writer.key("user_id")
        writer.string(session.userID)
        writer.key("instance")
        writer.string(session.instanceID)
        writer.key("connected_at")
        writer.string(Timestamp.string(session.connectedAt))
        writer.key("locations")
        writer.strings(session.locations)
        writer.key("client_address")
        writer.string(session.clientAddress)
        writer.key("user_agent")
        writer.string(session.userAgent)
        writer.endObject()
    }

    static func json(_ status: HTTPResponseStatus, _ members: (inout JSONWriter) -> Void) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        members(&writer)
        writer.endObject()
        return .json(status, writer)
    }
}
