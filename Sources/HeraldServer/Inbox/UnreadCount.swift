/// A user's unread count and the newest notification it includes.
///
/// Clients keep their badge from `notification` frames between counts: a count says "`count` unread, counting
/// every notification up to `lastID`", so a client adds one for each unread notification it received with a
/// larger id, whatever order the count and those notifications arrived in (docs/protocol.md). Ids are drawn
/// under the publish lock and committed before it is released, so the newest id a snapshot sees has every
/// smaller id visible in the same snapshot.
public struct UnreadCount: Sendable, Equatable {
    public var count: Int
    public var lastID: Int64

    public init(count: Int, lastID: Int64) {
        self.count = count
        self.lastID = lastID
    }
}
