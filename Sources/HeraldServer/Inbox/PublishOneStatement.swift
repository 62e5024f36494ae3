import PostgresNIO

/// The one-statement publish of ``InboxStore`` (one notification, no idempotency or collapse key) as a named
/// prepared statement. Parsing and planning its CTEs was most of PostgreSQL's work per publish once the publish
/// was a single round trip.
///
/// It takes the publish lock, inserts, and NOTIFYs the entry ``NotifyEntryTemplate`` leaves for SQL to complete.
/// The lock CTE is read before the insert produces its row, so the id is drawn under the lock and ids stay in
/// commit order; the statement's snapshot predates the lock, which only a collapse key's delete would mind.
struct PublishOneStatement: PostgresPreparedStatement {
    typealias Row = Int64

    static let sql = """
        WITH lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($1)),
        n AS (
            INSERT INTO notifications (type, priority, title, message, data, action_url, user_id, location_id,
                                       broadcast, publisher, expires_at)
            SELECT $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $8 IS NULL AND $9 IS NULL, $10, $11::timestamptz
            FROM lock
            RETURNING id, audience, data, created_at
        ), entry AS (
            SELECT n.id, $12 || n.id || $13 || to_json(n.audience)::text || $14 || n.id || $15 || n.data::text
                         || $16 || herald_ts(n.created_at) || $17 AS text
            FROM n
        )
        SELECT entry.id, pg_notify($18, CASE
                   WHEN octet_length(entry.text) < $19 THEN 'n' || entry.text
                   ELSE 'r' || chr(10) || entry.id END)::text
        FROM entry
        """

    static let bindingDataTypes: [PostgresDataType] = [
        .int8, .text, .text, .text, .text, .text, .text, .text, .text, .text, .text,
        .text, .text, .text, .text, .text, .text, .text, .int4,
    ]

    var publication: Publication
    var lockKey: Int64
    /// `expires_at` as the text the row stores (``Timestamp/string(_:)``).
    var expiresAt: String?
    var entry: NotifyEntryTemplate

    func makeBindings() throws -> PostgresBindings {
        let p = publication
        var (user, locationID): (String?, String?) = (nil, nil)
        switch p.target {
        case .users(let ids): user = ids.first
        case .location(let id): locationID = id
        case .broadcast: break
        }
        var bindings = PostgresBindings(capacity: 19)
        bindings.append(lockKey)
        for value in [p.type, p.priority, p.title, p.message, p.dataJSON] { bindings.append(value) }
        for value in [p.actionURL, user, locationID] { bindings.append(value) }
        bindings.append(p.publisher)
        bindings.append(expiresAt)
        for segment in entry.segments { bindings.append(segment) }
        bindings.append(FanoutMessage.channel)
        bindings.append(Int32(FanoutMessage.payloadLimit))
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 {
        try row.decode((Int64, String).self).0
    }
}
