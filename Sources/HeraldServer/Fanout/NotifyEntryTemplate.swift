import Foundation

/// A fresh notification's `n` entry (SPEC §5: header line, item line) as text around the four values only the
/// inserting statement knows: the id, the audience, the stored `data` (jsonb's normal form, which is what every
/// later read returns) and `created_at`. A one-row publish can then insert and NOTIFY in one statement, one round
/// trip, instead of five (BEGIN, lock, insert, NOTIFY, COMMIT).
///
/// The segments come from rendering the entry with the real writers, ``FanoutMessage``'s header and
/// ``InboxItem/write(to:)``, so there is no second copy of the wire format: each value is rendered as `0` and
/// again as `1`, and the one byte that differs is where it goes.
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
        let base = render(["0", "0", "0", "0"])
        var cuts: [(from: Int, to: Int)] = []
        for value in 0..<4 {
            var changed = ["0", "0", "0", "0"]
            changed[value] = "1"
            let other = render(changed)
            for index in base.indices where base[index] != other[index] {
                // The audience takes its quotes from to_json; the other values replace the placeholder only.
                let quoted = value == 1
                cuts.append(quoted ? (index - 1, index + 2) : (index, index + 1))
            }
        }
        cuts.sort { $0.from < $1.from }
        // Five holes: header id and audience, item id, data and created_at.
        precondition(cuts.count == 5, "the id appears twice in the entry, every other value once")
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
