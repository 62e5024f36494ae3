import Foundation

/// A fresh notification's `n` entry (header line, item line) as text around the four values only the
/// inserting statement knows: the id, the audience, the stored `data` (jsonb's normal form, which is what every
/// later read returns) and `created_at`. A one-row publish can then insert and NOTIFY in one statement, one round
/// trip, instead of five (BEGIN, lock, insert, NOTIFY, COMMIT).
///
/// The segments come from rendering the entry with the real writers, ``FanoutMessage``'s header and
/// ``InboxItem/write(to:)``, so there is no second copy of the wire format: the values are rendered as `0` and
/// again as `1`, and the bytes that differ are where they go.
public struct NotifyEntryTemplate: Sendable, Equatable {
    /// `segments[0] id segments[1] audience segments[2] id segments[3] data segments[4] created_at segments[5]`;
    /// the audience is a JSON string with its quotes, `created_at` goes inside quotes already in the text.
    public let segments: [String]

    /// The entry of a notification built from `publication`, `expiresAt` being the text the row stores.
    public init(_ publication: Publication, expiresAt: String?, publishedAt: Int64) {
        let p = publication
        var locationID: String?
        if case .location(let id) = p.target { locationID = id }
        let expiresMillis = p.expiresAt.map { Int64(($0.timeIntervalSince1970 * 1000).rounded()) }
        func render(_ values: [String]) -> [UInt8] {
            let id = Int64(values[0])!
            let item = InboxItem(
                id: id, type: p.type, priority: p.priority, title: p.title, message: p.message,
                dataJSON: values[2], readAt: nil, createdAt: values[3], actionURL: p.actionURL,
                locationID: locationID, expiresAt: expiresAt, deliveredAt: nil, collapseKey: nil)
            let live = LiveNotification(
                id: id, audience: values[1], type: p.type, expiresAtMillis: expiresMillis, itemJSON: "",
                replacedOthers: false)
            var writer = JSONWriter(reservingCapacity: 1024)
            item.write(to: &writer)
            return Array(("\n" + FanoutMessage.header(live, publishedAt: publishedAt) + "\n" + writer.string).utf8)
        }
        // Every value at once: the bytes that differ are the holes, in entry order (header id and audience, item
        // id, data and created_at), which is also the order the statement fills them in.
        let base = render(["0", "0", "0", "0"])
        let other = render(["1", "1", "1", "1"])
        let holes = base.indices.filter { base[$0] != other[$0] }
        precondition(holes.count == 5, "the id appears twice in the entry, every other value once")
        // The audience takes its quotes from to_json; the other values replace the placeholder only.
        let cuts = holes.enumerated().map { hole, index in
            hole == 1 ? (from: index - 1, to: index + 2) : (from: index, to: index + 1)
        }
        var segments: [String] = []
        var start = 0
        for cut in cuts {
            segments.append(String(decoding: base[start..<cut.from], as: UTF8.self))
            start = cut.to
        }
        segments.append(String(decoding: base[start...], as: UTF8.self))
        self.segments = segments
    }
}
