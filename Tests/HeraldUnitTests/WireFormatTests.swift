import Foundation
import HeraldTestSupport
import NIOCore
import PostgresNIO
import Testing

@testable import HeraldServer

/// The formats Herald writes and reads back with no database in between: the NOTIFY payloads between instances,
/// the batched publish's entry template, JSON escaping, client frames and the log redactor.
@Suite("Wire formats")
struct WireFormatTests {
    static func live(_ id: Int64, item: String = #"{"id":1}"#) -> LiveNotification {
        LiveNotification(
            id: id, audience: Audience.location("shop"), type: "system", expiresAtMillis: 1_800_000_000_000,
            itemJSON: item, replacedOthers: id == 2, publishedAtMicros: nil)
    }

    /// What a receiver makes of a payload, without the sender's clock.
    static func parsed(_ payload: String) -> FanoutMessage? {
        guard case .notifications(var notifications)? = FanoutMessage(payload: payload) else {
            return FanoutMessage(payload: payload)
        }
        for index in notifications.indices { notifications[index].publishedAtMicros = nil }
        return .notifications(notifications)
    }

    @Test("every kind of NOTIFY payload reads back as what was sent")
    func roundTrips() {
        let messages: [FanoutMessage] = [
            .notifications([Self.live(1), Self.live(2)]),
            .notificationIDs([7, 8, 9]),
            .inbox(InboxChange(userID: "u \"1\"", reason: .readAll, ids: [3, 4], unreadCount: 12, lastID: 40)),
            // From an instance of an earlier release, whose counts carried no id.
            .inbox(InboxChange(userID: "u", reason: .created, ids: [], unreadCount: 0, lastID: nil)),
            .event(
                EphemeralEvent(
                    audiences: ["u:a", "l:b"], eventType: "typing", dataJSON: #"{"x":[1,2]}"#, origin: "i-1")),
            .stored(99),
            .closeSockets(
                SocketCloseOrder(
                    target: .sockets(incarnation: UUID(), localIDs: [2, 5, UInt64.max]), code: 4409, reason: "replaced")
            ),
            .closeSockets(
                SocketCloseOrder(target: .user("leaver"), code: 4401, reason: "revoked", issuedBefore: 1_800_000_000)),
        ]
        for message in messages {
            #expect(Self.parsed(message.payload) == message, "\(message)")
        }
        #expect(FanoutMessage(payload: "x\nforeign") == nil, "a foreign NOTIFY is ignored")
        #expect(FanoutMessage(payload: "i\nnot json") == nil)
    }

    @Test("notifications are split into payloads under PostgreSQL's limit; one too large alone goes by id")
    func splitting() {
        let item = "{\"pad\":\"" + String(repeating: "p", count: 3000) + "\"}"
        let huge = "{\"pad\":\"" + String(repeating: "h", count: 9000) + "\"}"
        let payloads = FanoutMessage.payloads(for: [
            Self.live(1, item: item), Self.live(2, item: item), Self.live(3, item: huge), Self.live(4, item: item),
        ])
        #expect(payloads.allSatisfy { $0.utf8.count < FanoutMessage.payloadLimit })
        var delivered: [Int64] = []
        var byID: [Int64] = []
        for payload in payloads {
            switch FanoutMessage(payload: payload) {
            case .notifications(let notifications)?: delivered += notifications.map(\.id)
            case .notificationIDs(let ids)?: byID += ids
            default: Issue.record("unexpected payload \(payload.prefix(40))")
            }
        }
        #expect(delivered == [1, 2, 4])
        #expect(byID == [3])
        #expect(FanoutMessage.payloads(byID: Array(1...700)).count == 3, "300 ids to a payload")
    }

    @Test("the batched publish's entry, filled as the SQL fills it, is the entry FanoutMessage writes")
    func entryTemplate() throws {
        let publication = Publication(
            target: .location("shop"), type: "appointment", priority: "high", title: "Chair \"3\" at 10:00",
            message: "line one\nline two", dataJSON: #"{"a": 1}"#, actionURL: "https://example.com/a?b=c",
            expiresAt: Date(timeIntervalSince1970: 1_800_000_000.5), collapseKey: nil, idempotencyKey: nil,
            publisher: "admin")
        let expires = Timestamp.string(publication.expiresAt!)
        let template = NotifyEntryTemplate(publication, expiresAt: expires, publishedAt: 1)
        // What PostgreSQL puts in each named hole (NotifyEntryTemplate.Hole.sql): JSON text of the new row's values.
        let (id, data, created) = (Int64(42), #"{"a": 1}"#, "2026-12-01T10:00:00.000Z")
        let fills: [NotifyEntryTemplate.Hole: String] = [
            .id: "\(id)", .audience: "\"l:shop\"", .data: data, .createdAt: "\"\(created)\"",
        ]
        #expect(template.holes == [.id, .audience, .id, .data, .createdAt])
        #expect(template.holes == NotifyEntryTemplate.holeOrder)
        var filled = FanoutMessage.notificationsPrefix + template.segments[0]
        for (hole, segment) in zip(template.holes, template.segments.dropFirst()) { filled += fills[hole]! + segment }
        let item = InboxItem(
            id: id, type: publication.type, priority: publication.priority, title: publication.title,
            message: publication.message, dataJSON: data, readAt: nil, createdAt: created,
            actionURL: publication.actionURL, locationID: "shop", expiresAt: expires, deliveredAt: nil,
            collapseKey: nil)
        var writer = JSONWriter()
        item.write(to: &writer)
        let expected = LiveNotification(
            id: id, audience: "l:shop", type: publication.type, expiresAtMillis: 1_800_000_000_500,
            itemJSON: writer.string, replacedOthers: false)
        #expect(Self.parsed(filled) == .notifications([expected]))
        #expect(JSONValue.parse(Array(writer.string.utf8))?["title"] == .string("Chair \"3\" at 10:00"))
    }

    @Test("the batched publish binds exactly the parameters its SQL names, with the holes' SQL in order")
    func publishBatchStatement() throws {
        let sql = PublishBatchStatement.sql
        var named = Set<Int>()
        var rest = Substring(sql)
        while let dollar = rest.firstIndex(of: "$") {
            rest = rest[rest.index(after: dollar)...]
            if let number = Int(rest.prefix { $0.isNumber }) { named.insert(number) }
        }
        #expect(named == Set(1...PublishBatchStatement.bindingDataTypes.count))
        var position = sql.startIndex
        for hole in NotifyEntryTemplate.holeOrder {
            let found = sql.range(of: hole.sql, range: position..<sql.endIndex)
            #expect(found != nil, "\(hole) after the previous hole")
            position = found?.upperBound ?? position
        }
        let items = [Publication.Target.users(["u"]), .location("shop"), .broadcast].map { target in
            let publication = Publication(
                target: target, type: "system", priority: "normal", title: "t", message: "m", dataJSON: "{}",
                actionURL: nil, expiresAt: nil, collapseKey: nil, idempotencyKey: nil, publisher: "admin")
            return PublishBatchStatement.Item(
                publication: publication, expiresAt: nil,
                entry: NotifyEntryTemplate(publication, expiresAt: nil, publishedAt: 1))
        }
        let statement = PublishBatchStatement(items: items, lockKey: 1)
        #expect(try statement.makeBindings().count == PublishBatchStatement.bindingDataTypes.count)
    }

    @Test("a text array parameter keeps its NULLs and its UTF-8 (PostgreSQL's binary array format)")
    func nullableTextArray() {
        var buffer = ByteBuffer()
        NullableTextArray(["a", nil, "é"]).encode(into: &buffer, context: .default)
        let header = buffer.readMultipleIntegers(as: (Int32, Int32, UInt32, Int32, Int32).self)
        #expect(header?.0 == 1 && header?.1 == 1 && header?.2 == 25 && header?.3 == 3 && header?.4 == 1)
        #expect(buffer.readInteger(as: Int32.self) == 1)
        #expect(buffer.readString(length: 1) == "a")
        #expect(buffer.readInteger(as: Int32.self) == -1)
        #expect(buffer.readInteger(as: Int32.self) == 2)
        #expect(buffer.readString(length: 2) == "é")
        #expect(buffer.readableBytes == 0)
    }

    @Test("JSON strings escape quotes, backslashes and every control character, and keep the rest as UTF-8")
    func escaping() {
        var writer = JSONWriter()
        writer.string("q\" b\\ n\n t\t \u{01} é 🎉")
        #expect(writer.string == #""q\" b\\ n\n t\t \u0001 é 🎉""#)
        #expect(JSONValue.parse(Array(writer.string.utf8)) == .string("q\" b\\ n\n t\t \u{01} é 🎉"))
    }

    @Test("JSON strings written a run at a time are byte for byte what escaping each byte gives")
    func escapingRuns() {
        /// The escaping the writer did a byte at a time before it copied runs.
        func reference(_ text: String) -> [UInt8] {
            var bytes = [UInt8(ascii: "\"")]
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), byte]
                case UInt8(ascii: "\n"): bytes += Array(#"\n"#.utf8)
                case UInt8(ascii: "\r"): bytes += Array(#"\r"#.utf8)
                case UInt8(ascii: "\t"): bytes += Array(#"\t"#.utf8)
                case 0..<0x20: bytes += Array(String(format: "\\u%04x", byte).utf8)
                default: bytes.append(byte)
                }
            }
            return bytes + [UInt8(ascii: "\"")]
        }
        var random = SeededGenerator(seed: 12)
        let pieces = ["a", "é", "🎉", "\"", "\\", "\n", "\r", "\t", "\u{00}", "\u{1F}", "\u{7F}", " ", "plain text"]
        var texts = ["", "\"", "\"\"", "\\\"", "ends with a quote\"", "\nstarts with a newline"]
        for _ in 0..<2_000 {
            texts.append(
                (0..<Int.random(in: 0...12, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
            )
        }
        for text in texts {
            var writer = JSONWriter()
            writer.string(text)
            #expect(writer.bytes == reference(text), "\(text.debugDescription)")
        }
    }

    @Test("cells written from their bytes read as their strings would; bytes that are not UTF-8 are repaired")
    func cellBytes() {
        var random = SeededGenerator(seed: 13)
        let pieces: [[UInt8]] = [
            Array("a".utf8), Array("é".utf8), Array("🎉".utf8), Array("\"\\\n\u{01}".utf8), [0xFF], [0xC3],
            [0xE2, 0x82],
            [0xED, 0xA0, 0x80], Array("plain text".utf8),
        ]
        var texts: [[UInt8]] = [[], [0xC3, 0xA9], [0x80]]
        for _ in 0..<2_000 {
            texts.append(
                (0..<Int.random(in: 0...8, using: &random)).flatMap { _ in pieces.randomElement(using: &random)! })
        }
        for text in texts {
            let repaired = String(decoding: text, as: UTF8.self)
            var fromBytes = JSONWriter()
            fromBytes.beginArray()
            fromBytes.string(utf8: ByteBuffer(bytes: text))
            fromBytes.string(utf8: nil)
            fromBytes.raw(utf8: ByteBuffer(bytes: Array("\"".utf8) + text + Array("\"".utf8)))
            fromBytes.endArray()
            var fromString = JSONWriter()
            fromString.beginArray()
            fromString.string(repaired)
            fromString.null()
            fromString.raw("\"" + repaired + "\"")
            fromString.endArray()
            // The raw cell is JSON only where the text needs no escape; the comparison is of the bytes either way.
            #expect(fromBytes.bytes == fromString.bytes, "\(text)")
        }
    }

    @Test("integers are written as their decimal text, at every width and sign")
    func integers() {
        var random = SeededGenerator(seed: 15)
        var values: [Int64] = [0, 1, -1, 9, 10, -10, .max, .min, 1_000_000_000_000]
        for _ in 0..<2_000 {
            values.append(Int64.random(in: .min ... .max, using: &random) >> Int.random(in: 0...62, using: &random))
        }
        for value in values {
            var writer = JSONWriter()
            writer.ints([value, value])
            writer.int(UInt64.max)
            #expect(writer.string == "[\(value),\(value)],\(UInt64.max)")
        }
    }

    @Test("a binary timestamptz is written in place as the quoted text Timestamp gives it, at every extreme")
    func timestampsInPlace() {
        var random = SeededGenerator(seed: 14)
        var micros: [Int64] = [
            0, -1, 1, 999, -946_684_800_000_000, -946_684_800_000_001, .max, .min, 252_455_615_999_999_999,
        ]
        for _ in 0..<5_000 {
            micros.append(Int64.random(in: -63_000_000_000_000_000...253_000_000_000_000_000, using: &random))
        }
        for value in micros {
            var writer = JSONWriter()
            writer.beginArray()
            writer.timestamp(postgresMicroseconds: value)
            writer.int(1)
            writer.endArray()
            #expect(writer.string == "[\"\(Timestamp.string(postgresMicroseconds: value))\",1]", "\(value)")
        }
    }

    @Test("client frames: each type parses; a bad one names its problem")
    func clientFrames() {
        #expect((try? ClientMessage.parse(#"{"type":"ping"}"#)) == .ping)
        #expect((try? ClientMessage.parse(#"{"type":"ack","ids":[1,2]}"#)) == .ack([1, 2]))
        #expect((try? ClientMessage.parse(#"{"type":"subscribe","event_types":["a","b"]}"#)) == .subscribe(["a", "b"]))
        #expect((try? ClientMessage.parse(#"{"type":"resume","since":5}"#)) == .resume(5))
        for (text, code) in [
            ("{", FrameError.Code.invalidJSON), ("[1]", .badRequest), (#"{"type":"dance"}"#, .unknownType),
            (#"{"type":"resume","since":-1}"#, .invalidField), (#"{"type":"ack","ids":[]}"#, .invalidField),
            (#"{"type":"subscribe"}"#, .invalidField),
        ] {
            #expect(throws: FrameError.self) { try ClientMessage.parse(text) }
            do { _ = try ClientMessage.parse(text) } catch { #expect(error.code == code, "\(text)") }
        }
    }

    @Test("the redactor removes JWTs, token= values and Bearer credentials, and leaves other text alone")
    func redactor() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
        #expect(LogRedactor.redact("GET /api/v1/ws?token=\(jwt)&since=3") == "GET /api/v1/ws?token=[REDACTED]&since=3")
        #expect(LogRedactor.redact("Authorization: Bearer abc.def") == "Authorization: Bearer [REDACTED]")
        #expect(LogRedactor.redact("saw \(jwt) in a header") == "saw [REDACTED] in a header")
        #expect(LogRedactor.redact("access_token=secret1 next") == "access_token=[REDACTED] next")
        #expect(LogRedactor.redact("nothing secret here") == "nothing secret here")
    }
}
