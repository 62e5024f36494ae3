import PostgresNIO

/// One notification as its recipient sees it: the 6FB item fields plus `location_id`, `expires_at`,
/// `delivered_at` and `collapse_key`. Timestamps are kept as the wire's text (``TimestampColumn``) and `data` as
/// jsonb text, so an item is written to the wire without decoding either again.
public struct InboxItem: Sendable, Equatable {
    public var id: Int64
    public var type: String
    public var priority: String
    public var title: String
    public var message: String
    public var dataJSON: String
    public var readAt: String?
    public var createdAt: String
    public var actionURL: String?
    public var locationID: String?
    public var expiresAt: String?
    public var deliveredAt: String?
    public var collapseKey: String?

    init(
        id: Int64, type: String, priority: String, title: String, message: String, dataJSON: String, readAt: String?,
        createdAt: String, actionURL: String?, locationID: String?, expiresAt: String?, deliveredAt: String?,
        collapseKey: String?
    ) {
        (self.id, self.type, self.priority, self.title, self.message, self.dataJSON) =
            (id, type, priority, title, message, dataJSON)
        (self.readAt, self.createdAt, self.actionURL, self.locationID) = (readAt, createdAt, actionURL, locationID)
        (self.expiresAt, self.deliveredAt, self.collapseKey) = (expiresAt, deliveredAt, collapseKey)
    }

    /// Reads a row selected with ``InboxStore/recipientColumns`` or ``InboxStore/freshColumns``, one cell at a
    /// time: each decode is then specialised for its column's type, where postgres-nio's 13-element tuple decode
    /// looked each type's metadata up at run time, per row (a seventh of a page's server CPU).
    init(row: PostgresRow) throws {
        var cells = row.makeIterator()
        func next<Value: PostgresDecodable>(_: Value.Type = Value.self) throws -> Value {
            guard let cell = cells.next() else { throw PostgresDecodingError.Code.missingData }
            return try cell.decode(Value.self)
        }
        id = try next()
        type = try next()
        priority = try next()
        title = try next()
        message = try next()
        dataJSON = try next()
        readAt = try next(TimestampColumn?.self)?.text
        createdAt = try next(TimestampColumn.self).text
        actionURL = try next()
        locationID = try next()
        expiresAt = try next(TimestampColumn?.self)?.text
        deliveredAt = try next(TimestampColumn?.self)?.text
        collapseKey = try next()
    }

    /// The members of an item on the wire, in the order they are written: by ``write(to:)`` from an item, and by
    /// ``InboxPage`` straight from a row's cells.
    enum Member: String, CaseIterable {
        /// Each member's key, quoted once, in `allCases` order.
        static let keys = allCases.map { JSONWriter.Key($0.rawValue) }

        case id, type, priority, title, message, data
        case isRead = "is_read"
        case readAt = "read_at"
        case createdAt = "created_at"
        case actionURL = "action_url"
        case locationID = "location_id"
        case expiresAt = "expires_at"
        case deliveredAt = "delivered_at"
        case collapseKey = "collapse_key"
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        for (member, key) in zip(Member.allCases, Member.keys) {
            writer.key(key)
            switch member {
            case .id: writer.int(id, hole: .notificationID)
            case .type: writer.string(type)
            case .priority: writer.string(priority)
            case .title: writer.string(title)
            case .message: writer.string(message)
            case .data: writer.raw(dataJSON, hole: .notificationData)
            case .isRead: writer.bool(readAt != nil)
            case .readAt: writer.string(readAt)
            case .createdAt: writer.string(createdAt, hole: .createdAt)
            case .actionURL: writer.string(actionURL)
            case .locationID: writer.string(locationID)
            case .expiresAt: writer.string(expiresAt)
            case .deliveredAt: writer.string(deliveredAt)
            case .collapseKey: writer.string(collapseKey)
            }
        }
        writer.endObject()
    }
}
