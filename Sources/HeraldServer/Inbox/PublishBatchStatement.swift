import PostgresNIO

import struct Vapor.Abort

/// The common publish (one notification, no idempotency or collapse key) for several requests at once, as one
/// named prepared statement run in its own transaction: ``PublishBatcher`` gathers the publishes that arrive while
/// the previous statement commits, so one lock, one statement and one commit serve them all (group commit).
/// Parsing and planning its CTEs was most of PostgreSQL's work per publish once a publish was a single round trip,
/// hence a prepared statement whose SQL never changes: each column of the rows is one array parameter.
///
/// It takes the publish lock, inserts the rows in request order, and NOTIFYs each row's entry, which
/// ``NotifyEntryTemplate`` leaves for SQL to complete, or the id alone when the entry is too large for a payload
/// (as ``FanoutMessage/payloads(for:)`` decides).
/// - The lock CTE is read before the sort hands the insert its first row, so ids are drawn under the lock and
///   stay in commit order. The statement's snapshot predates the lock, which only a collapse key's delete would
///   mind.
/// - Ids are drawn in the sorted insert's order, so the k-th smallest id is the k-th request's: that is how each
///   row finds its entry's segments, and how ``PublishStore`` hands each request its id.
/// - The NOTIFYs are evaluated after the final sort by id (PostgreSQL postpones volatile output expressions past
///   a sort), so they queue in id order, which live delivery relies on.
struct PublishBatchStatement: PostgresPreparedStatement {
    /// Spelled out: postgres-nio's default, `String(reflecting:)`, is built again at every execution.
    static let name = "HeraldServer.PublishBatchStatement"

    typealias Row = Int64

    /// One request's publish: the publication, its `expires_at` as the text the row stores
    /// (``Timestamp/string(_:)``), and its entry with holes.
    struct Item: Sendable {
        var publication: Publication
        var expiresAt: String?
        var entry: NotifyEntryTemplate
    }

    /// The row's columns, one array each, are `$2`–`$11`; the entry's segments follow, one array each, then the
    /// channel, the size limit and the two payload prefixes (``FanoutMessage``).
    private static let rowColumns = 10
    private static let firstSegment = 2 + rowColumns

    /// The entry is the template's segments with each hole's SQL between them, in ``NotifyEntryTemplate/holeOrder``.
    static let sql: String = {
        let holes = NotifyEntryTemplate.holeOrder
        var entry = "$\(firstSegment)[n.position]"
        for (index, hole) in holes.enumerated() {
            entry += " || \(hole.sql) || $\(firstSegment + index + 1)[n.position]"
        }
        let channel = firstSegment + holes.count + 1
        let (limit, notifications, byID) = (channel + 1, channel + 2, channel + 3)
        return """
            WITH lock AS MATERIALIZED (SELECT pg_advisory_xact_lock($1)),
            inserted AS (
                INSERT INTO notifications (type, priority, title, message, data, action_url, user_id, location_id,
                                           broadcast, publisher, expires_at)
                SELECT r.type, r.priority, r.title, r.message, r.data::jsonb, r.action_url, r.user_id, r.location_id,
                       r.user_id IS NULL AND r.location_id IS NULL, r.publisher, r.expires_at::timestamptz
                FROM lock, unnest($2, $3, $4, $5, $6, $7, $8, $9, $10, $11) WITH ORDINALITY
                     AS r(type, priority, title, message, data, action_url, user_id, location_id, publisher,
                          expires_at, position)
                ORDER BY r.position
                RETURNING id, audience, data, created_at
            ), n AS (
                SELECT inserted.*, row_number() OVER (ORDER BY inserted.id) AS position FROM inserted
            ), entry AS (
                SELECT n.id, \(entry) AS text FROM n
            )
            SELECT entry.id, pg_notify($\(channel), CASE
                       WHEN octet_length(entry.text) + octet_length($\(notifications)) <= $\(limit)
                       THEN $\(notifications) || entry.text
                       ELSE $\(byID) || entry.id END)::text
            FROM entry
            ORDER BY entry.id
            """
    }()

    static let bindingDataTypes: [PostgresDataType] =
        [.int8] + Array(repeating: .textArray, count: rowColumns + NotifyEntryTemplate.holeOrder.count + 1)
        + [.text, .int4, .text, .text]

    var items: [Item]
    var lockKey: Int64

    func makeBindings() throws -> PostgresBindings {
        var columns = Array(repeating: [String?](), count: Self.rowColumns)
        var segments = Array(repeating: [String?](), count: NotifyEntryTemplate.holeOrder.count + 1)
        for item in items {
            guard item.entry.holes == NotifyEntryTemplate.holeOrder else {
                // Only a change to the writers could do this; answered 500 and logged, never sent half-filled.
                throw Abort(
                    .internalServerError, reason: "the entry's holes \(item.entry.holes) are not the statement's")
            }
            let p = item.publication
            var (user, locationID): (String?, String?) = (nil, nil)
            switch p.target {
            case .users(let ids): user = ids.first
            case .location(let id): locationID = id
            case .broadcast: break
            }
            let row: [String?] = [
                p.type, p.priority, p.title, p.message, p.dataJSON, p.actionURL, user, locationID, p.publisher,
                item.expiresAt,
            ]
            for (index, value) in row.enumerated() { columns[index].append(value) }
            for (index, segment) in item.entry.segments.enumerated() { segments[index].append(segment) }
        }
        var bindings = PostgresBindings(capacity: Self.bindingDataTypes.count)
        bindings.append(lockKey)
        for column in columns + segments { bindings.append(NullableTextArray(column)) }
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
