import PostgresNIO

/// A user's unread count and the newest id it includes (``UnreadCount``), as a named prepared statement: it is the
/// most frequent REST read (every badge refresh and every connect of `herald.js`), and parsing and planning the
/// statement with its `last_id` subquery cost more than running it.
struct UnreadCountStatement: PostgresPreparedStatement {
    /// Spelled out: postgres-nio's default, `String(reflecting:)`, is built again at every execution.
    static let name = "HeraldServer.UnreadCountStatement"

    typealias Row = UnreadCount

    static let sql = "SELECT herald_unread_count($1, $2), \(InboxStore.newestID)"

    static let bindingDataTypes: [PostgresDataType] = [.text, .textArray]

    var userID: String
    var audiences: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(userID)
        bindings.append(audiences)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> UnreadCount {
        let (count, lastID) = try row.decode((Int, Int64).self)
        return UnreadCount(count: count, lastID: lastID)
    }
}
