import Foundation
import Vapor

/// The `/notifications` routes, with the 6FB paths and bodies. A trailing slash reaches the same
/// route (Vapor drops empty path components), so nothing redirects.
public struct InboxController: Sendable {
    static let maxOffset = 100_000

    private let store: InboxStore
    private let publisher: PublishStore
    private let parser: PublicationParser
    private let policy: PublishPolicy
    private let notifier: InboxNotifier
    private let metrics: HeraldMetrics

    init(
        store: InboxStore, publisher: PublishStore, parser: PublicationParser, policy: PublishPolicy,
        notifier: InboxNotifier, metrics: HeraldMetrics
    ) {
        self.store = store
        self.publisher = publisher
        self.parser = parser
        self.policy = policy
        self.notifier = notifier
        self.metrics = metrics
    }

    public func register(on routes: any RoutesBuilder) {
        let notifications = routes.grouped("notifications")
        notifications.on(.GET, task: { try await self.list($0, unreadOnly: false) })
            .answering(.ok, .unauthorized, .unprocessableEntity, .serviceUnavailable)
        notifications.on(.GET, "unread", task: { try await self.list($0, unreadOnly: true) })
            .answering(.ok, .unauthorized, .unprocessableEntity, .serviceUnavailable)
        notifications.on(.GET, "unread-count", task: unreadCount).answering(.ok, .unauthorized, .serviceUnavailable)
        notifications.on(.PUT, "read-all", task: markAllRead)
            .answering(.ok, .unauthorized, .unprocessableEntity, .serviceUnavailable)
        let change: [HTTPStatus] = [.ok, .unauthorized, .notFound, .unprocessableEntity, .serviceUnavailable]
        for route in [
            notifications.on(
                .PUT, ":notification_id", "read",
                task: { try await self.change($0, .read, "Notification marked as read") }),
            notifications.on(
                .PUT, ":notification_id", "unread",
                task: { try await self.change($0, .unread, "Notification marked as unread") }),
            notifications.on(
                .DELETE, ":notification_id", task: { try await self.change($0, .delete, "Notification deleted") }),
        ] {
            route.answering(statuses: change)
        }
        notifications.on(.DELETE, task: clear).answering(.ok, .unauthorized, .serviceUnavailable)
        notifications.on(.POST, body: .collect(maxSize: "1mb"), task: publish)
            .answering(
                .created, .unauthorized, .forbidden, .payloadTooLarge, .unprocessableEntity, .serviceUnavailable)
    }

    // MARK: Handlers

    func list(_ request: Request, unreadOnly: Bool) async throws -> Response {
        let principal = try request.principal
        var filter = try Self.filter(from: request)
        filter.unreadOnly = filter.unreadOnly || unreadOnly
        let page = try await store.list(principal, filter)
        var headers = HTTPHeaders([("content-type", "application/json")])
        if page.ids.count == filter.limit, let last = page.ids.last {
            headers.add(name: .link, value: "<\(Self.nextPage(request, before: last))>; rel=\"next\"")
        }
        return Response(status: .ok, headers: headers, body: .init(buffer: page.json))
    }

    func unreadCount(_ request: Request) async throws -> Response {
        let unread = try await store.unreadCount(try request.principal)
        return Self.json(.ok) { writer in
            writer.key("count")
            writer.int(unread.count)
            writer.key("last_id")
            writer.int(unread.lastID)
        }
    }

    func markAllRead(_ request: Request) async throws -> Response {
        let principal = try request.principal
        let query = QueryParameters(request)
        var issues: [ValidationIssue] = []
        let type = query.string("type", maxLength: 64, &issues)
        let locationID = query.string("location_id", maxLength: 200, &issues)
        let before = query.integer("before", in: 1...Int(Int64.max), &issues)
        guard issues.isEmpty else { throw HeraldError.validation(issues) }
        let updated = try await store.markAllRead(
            principal, type: type, locationID: locationID, before: before.map(Int64.init))
        if updated > 0 { await notifier.changed(principal, .readAll, ids: []) }
        return Self.json(.ok) { writer in
            writer.key("message")
            writer.string("All notifications marked as read")
            writer.key("updated")
            writer.int(updated)
        }
    }

    func change(_ request: Request, _ change: InboxStore.Change, _ message: String) async throws -> Response {
        let principal = try request.principal
        guard let raw = request.parameters.get("notification_id") else {
            throw HeraldError.notFound("Notification not found")
        }
        guard let id = Int64(raw) else {
            throw HeraldError.validation([
                .init(
                    [.name("path"), .name("notification_id")], "Input should be a valid integer", type: "int_parsing")
            ])
        }
        guard id > 0, try await store.apply(change, id: id, for: principal) else {
            throw HeraldError.notFound("Notification not found")
        }
        let reason: InboxChange.Reason
        switch change {
        case .read: reason = .read
        case .unread: reason = .unread
        case .delete: reason = .deleted
        }
        await notifier.changed(principal, reason, ids: [id])
        return Self.json(.ok) { writer in
            writer.key("message")
            writer.string(message)
        }
    }

    func clear(_ request: Request) async throws -> Response {
        let principal = try request.principal
        let deleted = try await store.clear(principal)
        if deleted > 0 { await notifier.changed(principal, .cleared, ids: []) }
        return Self.json(.ok) { writer in
            writer.key("message")
            writer.string("All notifications cleared")
            writer.key("deleted")
            writer.int(deleted)
        }
    }

    /// Every publish that ``PublishRoute`` leaves to Vapor: those with a key, to several users, by staff to users,
    /// from a principal whose locations are to be recorded.
    func publish(_ request: Request) async throws -> Response {
        let principal = try request.principal
        let publication = try parser.parse(
            body: request.body.data, idempotencyHeader: request.headers.first(name: PublishRoute.idempotencyHeader),
            publisher: principal.userID)
        try await policy.authorize(principal, to: publication.target)
        let result = try await publisher.publish(publication)
        if !result.replayed { metrics.published(result.ids.count) }
        return PublishRoute.answer(result).response
    }

    // MARK: Helpers

    /// The list parameters; every bad one is reported, FastAPI style.
    static func filter(from request: Request) throws -> InboxFilter {
        let query = QueryParameters(request)
        var issues: [ValidationIssue] = []
        var filter = InboxFilter()
        filter.limit = query.integer("limit", in: 1...100, &issues) ?? 50
        filter.offset = query.integer("offset", in: 0...maxOffset, &issues) ?? 0
        filter.unreadOnly = query.boolean("unread_only", &issues) ?? false
        filter.type = query.string("type", maxLength: 64, &issues)
        filter.priority = query.string("priority", maxLength: 16, &issues)
        if let priority = filter.priority, !PublicationParser.priorities.contains(priority) {
            issues.append(.query("priority", "Input should be 'low', 'medium', 'high' or 'urgent'", type: "enum"))
        }
        filter.locationID = query.string("location_id", maxLength: 200, &issues)
        filter.before = query.integer("before", in: 1...Int(Int64.max), &issues).map(Int64.init)
        guard issues.isEmpty else { throw HeraldError.validation(issues) }
        return filter
    }

    /// The same request with `before` set to the last id and `offset` dropped: the keyset URL of the next page.
    /// The other parameters are kept as the client sent them, still percent-encoded, so nothing is decoded and
    /// encoded again (Foundation's `URLComponents` was 2 % of a page's CPU). A byte a URI may not hold, which the
    /// HTTP parser lets through (`<`, `>`, `"`), is percent-encoded, so the link cannot end early in the header.
    static func nextPage(_ request: Request, before: Int64) -> String {
        var link = Array(request.url.path.utf8)
        link.append(UInt8(ascii: "?"))
        for item in (request.url.query ?? "").utf8.split(separator: UInt8(ascii: "&")) {
            let name = Substring(item.prefix(while: { $0 != UInt8(ascii: "=") }))
            let decoded = name.contains("%") ? name.removingPercentEncoding ?? String(name) : String(name)
            guard decoded != "before", decoded != "offset" else { continue }
            for byte in item {
                if Self.queryBytes.contains(byte) {
                    link.append(byte)
                } else {
                    link.append(UInt8(ascii: "%"))
                    link.append(Self.hexDigits[Int(byte >> 4)])
                    link.append(Self.hexDigits[Int(byte & 0x0F)])
                }
            }
            link.append(UInt8(ascii: "&"))
        }
        link.append(contentsOf: "before=\(before)".utf8)
        return String(decoding: link, as: UTF8.self)
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    /// What a query may hold as it is (RFC 3986's `query`, with `%` for the escapes already in it).
    private static let queryBytes = Set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%".utf8)

    static func json(_ status: HTTPResponseStatus, _ members: (inout JSONWriter) -> Void) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        members(&writer)
        writer.endObject()
        return .json(status, writer)
    }
}
