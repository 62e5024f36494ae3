import PostgresNIO

/// The values a page statement (``InboxPageStatement``, ``UnreadPageStatement``) binds, in their order.
struct InboxPageParameters: Sendable {
    var audiences: [String]
    var userID: String
    var filter: InboxFilter

    var bindings: PostgresBindings {
        var bindings = PostgresBindings(capacity: 8)
        bindings.append(audiences)
        bindings.append(userID)
        bindings.append(filter.before ?? Int64.max)
        bindings.append(filter.type)
        bindings.append(filter.priority)
        bindings.append(Int64(filter.limit + filter.offset))
        bindings.append(Int64(filter.limit))
        bindings.append(Int64(filter.offset))
        return bindings
    }
}
