import PostgresNIO

import struct Vapor.Abort

/// The one-statement publish of ``InboxStore`` (one notification, no idempotency or collapse key) as a named
/// prepared statement. Parsing and planning its CTEs was most of PostgreSQL's work per publish once the publish
/// was a single round trip.
///
/// It takes the publish lock, inserts, and NOTIFYs the entry ``NotifyEntryTemplate`` leaves for SQL to complete,
/// or the id alone when the entry is too large for a payload (as ``FanoutMessage/payloads(for:)`` decides).
/// The lock CTE is read before the insert produces its row, so the id is drawn under the lock and ids stay in
/// commit order; the statement's snapshot predates the lock, which only a collapse key's delete would mind.
struct PublishOneStatement: PostgresPreparedStatement {
    typealias Row = Int64

    /// Parameters `$1`–`$11` are the lock key and the row; the entry's segments follow, then the channel, the
    /// size limit and the two payload prefixes (``FanoutMessage``).
    private static let firstSegment = 12

    /// The entry is the template's segments with each hole's SQL between them, in ``NotifyEntryTemplate/holeOrder``.
    static let sql: String = {
        let holes = NotifyEntryTemplate.holeOrder
        var entry = "$\(firstSegment)"
        for (index, hole) in holes.enumerated() { entry += " || \(hole.sql) || $\(firstSegment + index + 1)" }
        let channel = firstSegment + holes.count + 1
        let (limit, notifications, byID) = (channel + 1, channel + 2, channel + 3)
        return """
            WITH lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($1)),
            n AS (
                INSERT INTO notifications (type, priority, title, message, data, action_url, user_id, location_id,
                                           broadcast, publisher, expires_at)
                SELECT $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $8 IS NULL AND $9 IS NULL, $10, $11::timestamptz
                FROM lock
                RETURNING id, audience, data, created_at
            ), entry AS (
                SELECT n.id, \(entry) AS text FROM n
            )
            SELECT entry.id, pg_notify($\(channel), CASE
                       WHEN octet_length(entry.text) + octet_length($\(notifications)) <= $\(limit)
                       THEN $\(notifications) || entry.text
                       ELSE $\(byID) || entry.id END)::text
            FROM entry
            """
    }()

    static let bindingDataTypes: [PostgresDataType] =
        [.int8] + Array(repeating: .text, count: 10)
        + Array(repeating: .text, count: NotifyEntryTemplate.holeOrder.count + 1)
        + [.text, .int4, .text, .text]

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
        guard entry.holes == NotifyEntryTemplate.holeOrder else {
            // Only a change to the writers could do this; answered 500 and logged, never sent half-filled.
            throw Abort(.internalServerError, reason: "the entry's holes \(entry.holes) are not the statement's")
        }
        var bindings = PostgresBindings(capacity: Self.bindingDataTypes.count)
        bindings.append(lockKey)
        for value in [p.type, p.priority, p.title, p.message, p.dataJSON] { bindings.append(value) }
        for value in [p.actionURL, user, locationID] { bindings.append(value) }
        bindings.append(p.publisher)
        bindings.append(expiresAt)
        for segment in entry.segments { bindings.append(segment) }
        bindings.append(FanoutMessage.channel)
        bindings.append(Int32(FanoutMessage.payloadLimit))
        bindings.append(FanoutMessage.notificationsPrefix)
        bindings.append(FanoutMessage.byIDPrefix)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 {
        try row.decode((Int64, String).self).0
    }
}
