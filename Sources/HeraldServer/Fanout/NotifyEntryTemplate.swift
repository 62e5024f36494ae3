import Foundation

/// A fresh notification's entry of an `n` payload, as text around named holes for the values only the inserting
/// statement knows: the id, the audience, the stored `data` (jsonb's normal form, which every later read returns)
/// and `created_at`. A one-row publish can then insert and NOTIFY in one statement, one round trip, instead of
/// five (BEGIN, lock, insert, NOTIFY, COMMIT): ``PublishBatchStatement`` puts each hole's ``Hole/sql`` between
/// the segments.
///
/// The entry is written by the same code as every other payload (``FanoutMessage/writeEntry``, with
/// ``InboxItem/write(to:)`` for the item), with a writer that leaves those values out by name, so there is no
/// second copy of the wire format.
public struct NotifyEntryTemplate: Sendable, Equatable {
    /// The text before, between and after the holes.
    public let segments: [String]
    /// The holes in the order they appear; the notification's id appears twice, in the header and in the item.
    let holes: [Hole]

    /// The values of a fresh notification that only its inserting statement knows, each with the SQL that writes
    /// it as JSON text from the inserted row `n`.
    enum Hole: String, CaseIterable, Sendable {
        case id, audience, data
        case createdAt = "created_at"

        var sql: String {
            switch self {
            case .id: return "n.id::text"
            case .audience: return "to_json(n.audience)::text"
            case .data: return "n.data::text"
            case .createdAt: return "to_json(herald_ts(n.created_at))::text"
            }
        }

        var json: JSONHole { JSONHole(rawValue) }
    }

    /// The entry of a notification built from `publication`, `expiresAt` being the text the row stores.
    public init(_ publication: Publication, expiresAt: String?, publishedAt: Int64) {
        let p = publication
        var locationID: String?
        if case .location(let id) = p.target { locationID = id }
        // The values written with a hole are placeholders; the writer leaves them out.
        let item = InboxItem(
            id: 0, type: p.type, priority: p.priority, title: p.title, message: p.message, dataJSON: "",
            readAt: nil, createdAt: "", actionURL: p.actionURL, locationID: locationID, expiresAt: expiresAt,
            deliveredAt: nil, collapseKey: nil)
        let live = LiveNotification(
            id: 0, audience: "", type: p.type,
            expiresAtMillis: p.expiresAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }, itemJSON: "",
            replacedOthers: false)
        var writer = JSONWriter(reservingCapacity: 1024, leavingHoles: true)
        FanoutMessage.writeEntry(live, publishedAt: publishedAt, to: &writer) { item.write(to: &$0) }
        segments = writer.segmentsAroundHoles
        // Every hole a writer leaves is one of ``Hole``'s (the JSONHole constants below are made from them).
        holes = writer.holes.compactMap { Hole(rawValue: $0.hole.name) }
    }

    /// The holes of every entry, in order. Which values are holes and where they go depend on the writers' code
    /// only, never on the publication, so one statement's SQL serves every publish.
    static let holeOrder = NotifyEntryTemplate(
        Publication(
            target: .broadcast, type: "t", priority: "p", title: "", message: "", dataJSON: "{}", actionURL: nil,
            expiresAt: nil, collapseKey: nil, idempotencyKey: nil, publisher: ""),
        expiresAt: nil, publishedAt: 0
    ).holes
}

extension JSONHole {
    /// The holes of a fresh notification's entry.
    static let notificationID = NotifyEntryTemplate.Hole.id.json
    static let audience = NotifyEntryTemplate.Hole.audience.json
    static let notificationData = NotifyEntryTemplate.Hole.data.json
    static let createdAt = NotifyEntryTemplate.Hole.createdAt.json
}
