/// A change to one user's unread count, with the count after it (the `inbox` frame).
public struct InboxChange: Sendable, Equatable {
    /// Why the count changed. A plain new notification sends no `inbox` frame: clients count it themselves.
    /// `created` is a notification that replaced others (collapse), or, with no ids, a recount the client could
    /// not have followed (a listener gap, a token that moved the user between locations); `deleted` also names
    /// notifications that expired.
    public enum Reason: String, Sendable {
        case created, read, unread, deleted, cleared
        case readAll = "read_all"
    }

    public var userID: String
    public var reason: Reason
    public var ids: [Int64]
    public var unreadCount: Int
    /// The newest notification `unreadCount` includes (``UnreadCount/lastID``); `nil` from an instance of an
    /// earlier release, whose counts did not say.
    public var lastID: Int64?

    public init(userID: String, reason: Reason, ids: [Int64], unreadCount: Int, lastID: Int64?) {
        self.userID = userID
        self.reason = reason
        self.ids = ids
        self.unreadCount = unreadCount
        self.lastID = lastID
    }
}
