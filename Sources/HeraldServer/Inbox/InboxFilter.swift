/// The query parameters of a list request, already validated.
public struct InboxFilter: Sendable, Equatable {
    public var limit = 50
    public var offset = 0
    public var unreadOnly = false
    public var type: String?
    public var priority: String?
    public var locationID: String?
    /// Keyset paging: only ids below this one.
    public var before: Int64?

    public init() {}
}
