import PostgresNIO

/// A committed notification on its way to sockets: where it goes, when it stops being deliverable, and its inbox
/// item as JSON text (for a fresh notification the item is the same for every recipient).
public struct LiveNotification: Sendable, Equatable {
    public var id: Int64
    public var audience: String
    public var type: String
    /// `expires_at` in milliseconds since 1970, if it expires.
    public var expiresAtMillis: Int64?
    public var itemJSON: String
    /// Whether publishing it replaced older notifications (collapse), which changes counts by more than one.
    public var replacedOthers: Bool
    /// When the publisher sent it, in wall-clock microseconds; `nil` for notifications read back from the table.
    public var publishedAtMicros: Int64?

    public init(
        id: Int64, audience: String, type: String, expiresAtMillis: Int64?, itemJSON: String, replacedOthers: Bool,
        publishedAtMicros: Int64? = nil
    ) {
        self.id = id
        self.audience = audience
        self.type = type
        self.expiresAtMillis = expiresAtMillis
        self.itemJSON = itemJSON
        self.replacedOthers = replacedOthers
        self.publishedAtMicros = publishedAtMicros
    }
}

extension LiveNotification {
    /// Reads a row selected with ``InboxStore/liveColumns``: the fresh item, then its audience and expiry.
    init(row: PostgresRow, replacedOthers: Bool) throws {
        let (
            id, type, priority, title, message, dataJSON, readAt, createdAt, actionURL, locationID, expiresAt,
            deliveredAt, collapseKey, audience, expiresAtMillis
        ) = try row.decode(
            (
                Int64, String, String, String, String, String, TimestampColumn?, TimestampColumn, String?, String?,
                TimestampColumn?, TimestampColumn?, String?, String, Int64?
            ).self)
        let item = InboxItem(
            id: id, type: type, priority: priority, title: title, message: message, dataJSON: dataJSON,
            readAt: readAt?.text, createdAt: createdAt.text, actionURL: actionURL, locationID: locationID,
            expiresAt: expiresAt?.text, deliveredAt: deliveredAt?.text, collapseKey: collapseKey)
        var writer = JSONWriter(reservingCapacity: 512)
        item.write(to: &writer)
        self.init(
            id: id, audience: audience, type: type, expiresAtMillis: expiresAtMillis, itemJSON: writer.string,
            replacedOthers: replacedOthers)
    }
}
