import Foundation

/// What travels on the `herald` NOTIFY channel between instances.
///
/// The format is line-based so a receiver routes on a small JSON header and forwards the item JSON untouched:
/// - `n`, then per notification a header line `{"id","aud","t","exp","rep","at"}` and an item line;
/// - `r`, then one line of comma-separated ids: notifications too large for a payload, fetched by id;
/// - `i`, then `{"u","r","ids","c","l"}`: an inbox change;
/// - `e`, then `{"aud","t","o"}` and a data line: an ephemeral event;
/// - `p`, then an id: a message too large for a payload, stored in `fanout_payloads` (``FanoutStore``);
/// - `k`, then `{"i","l"}` (one instance's sockets) or `{"u"}` (a user's), with `"c"` the close code, `"m"` the
///   reason and, for a revocation, `"b"` the moment before which tokens are refused: sockets to close.
public enum FanoutMessage: Sendable, Equatable {
    case notifications([LiveNotification])
    case notificationIDs([Int64])
    case inbox(InboxChange)
    case event(EphemeralEvent)
    case stored(Int64)
    case closeSockets(SocketCloseOrder)

    public static let channel = "herald"
    /// PostgreSQL refuses payloads of 8000 bytes or more.
    public static let payloadLimit = 7900
    /// How a payload of notifications starts; each notification follows as an entry (``writeEntry``).
    static let notificationsPrefix = "n"
    /// How a payload of ids starts; the ids follow, comma-separated.
    static let byIDPrefix = "r\n"

    /// Writes one notification's entry of an `n` payload: a line break, its header line, a line break, then its
    /// item, which `item` writes. The batched publish statement writes the same entry with holes for PostgreSQL to
    /// fill (``NotifyEntryTemplate``), so this is the one place that knows it.
    static func writeEntry(
        _ notification: LiveNotification, publishedAt: Int64, to writer: inout JSONWriter,
        item: (inout JSONWriter) -> Void
    ) {
        writer.lineBreak()
        writeHeader(notification, publishedAt: publishedAt, to: &writer)
        writer.lineBreak()
        item(&writer)
    }

    /// Payloads for `notifications`, split so each fits; notifications too large even alone go by id.
    public static func payloads(for notifications: [LiveNotification]) -> [String] {
        var payloads: [String] = []
        var current = notificationsPrefix
        var byID: [Int64] = []
        let now = Timestamp.microsecondsNow()
        for notification in notifications {
            var writer = JSONWriter(reservingCapacity: notification.itemJSON.utf8.count + 128)
            writeEntry(notification, publishedAt: now, to: &writer) { $0.raw(notification.itemJSON) }
            let entry = writer.string
            if entry.utf8.count + notificationsPrefix.utf8.count > payloadLimit {
                byID.append(notification.id)
                continue
            }
            if current.utf8.count + entry.utf8.count > payloadLimit {
                payloads.append(current)
                current = notificationsPrefix
            }
            current += entry
        }
        if current != notificationsPrefix { payloads.append(current) }
        return payloads + Self.payloads(byID: byID)
    }

    /// Payloads that send notifications by id, 300 to a payload (well under the limit at 19 digits and a comma).
    public static func payloads(byID ids: [Int64]) -> [String] {
        stride(from: 0, to: ids.count, by: 300).map { chunk in
            byIDPrefix + ids[chunk..<min(chunk + 300, ids.count)].map(String.init).joined(separator: ",")
        }
    }

    public var payload: String {
        switch self {
        case .notifications(let notifications):
            return Self.payloads(for: notifications).first ?? Self.notificationsPrefix
        case .notificationIDs(let ids): return Self.byIDPrefix + ids.map(String.init).joined(separator: ",")
        case .inbox(let change):
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("u")
            writer.string(change.userID)
            writer.key("r")
            writer.string(change.reason.rawValue)
            writer.key("ids")
            writer.ints(change.ids)
            writer.key("c")
            writer.int(change.unreadCount)
            if let lastID = change.lastID {
                writer.key("l")
                writer.int(lastID)
            }
            writer.endObject()
            return "i\n" + writer.string
        case .stored(let id):
            return "p\n\(id)"
        case .closeSockets(let order):
            var writer = JSONWriter()
            writer.beginObject()
            switch order.target {
            case .sockets(let incarnation, let localIDs):
                writer.key("i")
                writer.string(incarnation.lowercasedString)
                writer.key("l")
                writer.beginArray()
                for id in localIDs { writer.string(String(id)) }
                writer.endArray()
            case .user(let user):
                writer.key("u")
                writer.string(user)
            }
            writer.key("c")
            writer.int(order.code)
            writer.key("m")
            writer.string(order.reason)
            if let before = order.issuedBefore {
                writer.key("b")
                writer.double(before)
            }
            writer.endObject()
            return "k\n" + writer.string
        case .event(let event):
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("aud")
            writer.strings(event.audiences)
            writer.key("t")
            writer.string(event.eventType)
            writer.key("o")
            writer.string(event.origin)
            writer.endObject()
            return "e\n" + writer.string + "\n" + event.dataJSON
        }
    }

    static func writeHeader(_ notification: LiveNotification, publishedAt: Int64, to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("id")
        writer.int(notification.id, hole: .notificationID)
        writer.key("aud")
        writer.string(notification.audience, hole: .audience)
        writer.key("t")
        writer.string(notification.type)
        writer.key("exp")
        if let expires = notification.expiresAtMillis { writer.int(expires) } else { writer.null() }
        writer.key("rep")
        writer.bool(notification.replacedOthers)
        writer.key("at")
        writer.int(publishedAt)
        writer.endObject()
    }

    /// Parses a payload; `nil` for anything malformed (a foreign NOTIFY on the channel is ignored, not fatal).
    public init?(payload: String) {
        // Split as UTF-8: as `Character`s, every byte of every payload went through grapheme breaking.
        let lines = payload.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
            String(Substring($0))
        }
        guard let kind = lines.first else { return nil }
        switch kind {
        case "n":
            var notifications: [LiveNotification] = []
            var index = 1
            while index + 1 < lines.count {
                guard let header = JSONValue.parse(Array(lines[index].utf8)), let id = header["id"]?.int64Value,
                    let audience = header["aud"]?.stringValue, let type = header["t"]?.stringValue
                else { return nil }
                notifications.append(
                    LiveNotification(
                        id: id, audience: audience, type: type, expiresAtMillis: header["exp"]?.int64Value,
                        itemJSON: lines[index + 1], replacedOthers: header["rep"] == .bool(true),
                        publishedAtMicros: header["at"]?.int64Value))
                index += 2
            }
            self = .notifications(notifications)
        case "r":
            guard lines.count == 2 else { return nil }
            let ids = lines[1].split(separator: ",").compactMap { Int64($0) }
            self = .notificationIDs(ids)
        case "i":
            guard lines.count == 2, let header = JSONValue.parse(Array(lines[1].utf8)),
                let user = header["u"]?.stringValue,
                let reason = header["r"]?.stringValue.flatMap(InboxChange.Reason.init),
                case .array(let ids)? = header["ids"], let count = header["c"]?.int64Value
            else { return nil }
            self = .inbox(
                InboxChange(
                    userID: user, reason: reason, ids: ids.compactMap(\.int64Value), unreadCount: Int(count),
                    lastID: header["l"]?.int64Value))
        case "p":
            guard lines.count == 2, let id = Int64(lines[1]) else { return nil }
            self = .stored(id)
        case "k":
            guard lines.count == 2, let header = JSONValue.parse(Array(lines[1].utf8)),
                let code = header["c"]?.int64Value.flatMap(UInt16.init(exactly:)), let reason = header["m"]?.stringValue
            else { return nil }
            let target: SocketCloseOrder.Target
            if let user = header["u"]?.stringValue {
                target = .user(user)
            } else if let incarnation = header["i"]?.stringValue.flatMap(UUID.init(uuidString:)),
                case .array(let ids)? = header["l"]
            {
                target = .sockets(
                    incarnation: incarnation, localIDs: ids.compactMap { $0.stringValue.flatMap(UInt64.init) })
            } else {
                return nil
            }
            let before: Double? =
                switch header["b"] {
                case .double(let value)?: value
                case .int(let value)?: Double(value)
                default: nil
                }
            self = .closeSockets(SocketCloseOrder(target: target, code: code, reason: reason, issuedBefore: before))
        case "e":
            guard lines.count == 3, let header = JSONValue.parse(Array(lines[1].utf8)),
                case .array(let audiences)? = header["aud"], let type = header["t"]?.stringValue,
                let origin = header["o"]?.stringValue
            else { return nil }
            self = .event(
                EphemeralEvent(
                    audiences: audiences.compactMap(\.stringValue), eventType: type, dataJSON: lines[2], origin: origin)
            )
        default:
            return nil
        }
    }
}
