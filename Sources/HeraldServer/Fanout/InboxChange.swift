/// A change to one user's inbox made through REST, with the unread count after it (the `inbox` frame).
public struct InboxChange: Sendable, Equatable {
    public enum Reason: String, Sendable {
        case created, read, unread, deleted, cleared
        case readAll = "read_all"
    }

    public var userID: String
    public var reason: Reason
    public var ids: [Int64]
    public var unreadCount: Int

    public init(userID: String, reason: Reason, ids: [Int64], unreadCount: Int) {
        self.userID = userID
        self.reason = reason
        self.ids = ids
        self.unreadCount = unreadCount
    }
}
