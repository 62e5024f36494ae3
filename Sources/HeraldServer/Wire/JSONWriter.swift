import NIOCore

/// Writes JSON straight into bytes. Inbox items embed `data` as the raw jsonb text PostgreSQL returns, and a
/// realtime frame is serialised once and shared by every socket it goes to, so neither path goes through
/// `Encodable` and an intermediate tree.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false
    /// Whether values written with a hole name are left out (``JSONHole``).
    private let leavesHoles: Bool
    /// Where each hole left so far goes in ``bytes``, in order.
    public private(set) var holes: [(offset: Int, hole: JSONHole)] = []

    /// A writer; with `leavingHoles`, one that leaves out every value written with a ``JSONHole`` and records where
    /// it goes, so the text around the holes can be completed elsewhere (``segmentsAroundHoles``).
    public init(reservingCapacity capacity: Int = 256, leavingHoles: Bool = false) {
        bytes.reserveCapacity(capacity)
        leavesHoles = leavingHoles
    }

    /// The text before, between and after the holes: one more segment than there are holes.
    public var segmentsAroundHoles: [String] {
        var segments: [String] = []
        var start = 0
        for (offset, _) in holes {
            segments.append(String(decoding: bytes[start..<offset], as: UTF8.self))
            start = offset
        }
        segments.append(String(decoding: bytes[start...], as: UTF8.self))
        return segments
    }

    public var string: String { String(decoding: bytes, as: UTF8.self) }

    public var buffer: ByteBuffer { ByteBuffer(bytes: bytes) }

    public mutating func beginObject() {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
    }

    public mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func beginArray() {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
    }

    public mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes `"name":`; the value written next belongs to it.
    public mutating func key(_ name: String) {
        separate()
        appendQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        separate()
        appendQuoted(value)
        needsComma = true
    }

    public mutating func int(_ value: some BinaryInteger) {
        separate()
        if let value = Int64(exactly: value) {
            appendDigits(value)
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
        needsComma = true
    }

    /// A key written before: `"name":` as bytes, so a member written once per item of a page is not quoted and
    /// escaped again each time (``key(_:)-(Key)``).
    public struct Key: Sendable {
        fileprivate let quoted: [UInt8]

        public init(_ name: String) {
            var writer = JSONWriter(reservingCapacity: name.utf8.count + 3)
            writer.key(name)
            quoted = writer.bytes
        }
    }

    public mutating func key(_ key: Key) {
        separate()
        bytes.append(contentsOf: key.quoted)
        needsComma = false
    }

    /// The decimal digits of `value`, written in place: `String(value)` for an id was a string made and dropped.
    private mutating func appendDigits(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var rest = value.magnitude
        let start = bytes.count
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        bytes[start...].reverse()
    }

    public mutating func double(_ value: Double) {
        separate()
        if value.isFinite {
            bytes.append(contentsOf: "\(value)".utf8)
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
        needsComma = true
    }

    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// Appends text that is already valid JSON, such as jsonb returned by PostgreSQL.
    public mutating func raw(_ json: String) {
        separate()
        bytes.append(contentsOf: json.utf8)
        needsComma = true
    }

    public mutating func string(_ value: String?) {
        if let value { string(value) } else { null() }
    }

    /// UTF-8 text as a JSON string, such as a text cell as PostgreSQL returned it, with no `String` in between
    /// (an inbox page writes a dozen cells per item, ``InboxPage``); `nil` (SQL's NULL) writes `null`. Text that is
    /// not valid UTF-8 (a database created with `SQL_ASCII` passes any bytes) is repaired as `String` repairs it,
    /// so the answer is valid JSON whatever the cell holds.
    public mutating func string(utf8 text: ByteBuffer?) {
        guard let text else { return null() }
        separate()
        let start = bytes.count
        let allASCII = text.withUnsafeReadableBytes { appendQuoted($0.assumingMemoryBound(to: UInt8.self)) }
        if !allASCII, !Self.isValidUTF8(text) {
            bytes.removeSubrange(start...)
            appendQuoted(String(decoding: text.readableBytesView, as: UTF8.self))
        }
        needsComma = true
    }

    /// Bytes that are already valid JSON, such as a jsonb cell read as text (repaired like
    /// ``string(utf8:)`` if they are not UTF-8).
    public mutating func raw(utf8 json: ByteBuffer) {
        separate()
        if json.readableBytesView.allSatisfy({ $0 < 0x80 }) || Self.isValidUTF8(json) {
            bytes.append(contentsOf: json.readableBytesView)
        } else {
            bytes.append(contentsOf: String(decoding: json.readableBytesView, as: UTF8.self).utf8)
        }
        needsComma = true
    }

    private static func isValidUTF8(_ text: ByteBuffer) -> Bool {
        var validator = UTF8Validator()
        return validator.feed(text.readableBytesView) && validator.isComplete
    }

    /// A `timestamptz` in PostgreSQL's binary form as the wire's text (``Timestamp``), written in place.
    public mutating func timestamp(postgresMicroseconds micros: Int64) {
        separate()
        let millis = Timestamp.unixMilliseconds(postgresMicroseconds: micros)
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "\""), count: Timestamp.length + 2))
        let written = bytes.withUnsafeMutableBufferPointer { all in
            Timestamp.format(
                unixMilliseconds: millis,
                into: UnsafeMutableBufferPointer(rebasing: all[(start + 1)..<(start + 1 + Timestamp.length)]))
        }
        if written == 0 {
            bytes.removeSubrange(start...)
            appendQuoted(Timestamp.string(unixMilliseconds: millis))
        }
        needsComma = true
    }

    /// `value`, or its hole in a writer leaving holes (filled with the string's JSON, quotes included).
    public mutating func string(_ value: String, hole: JSONHole) {
        if leavesHoles { leave(hole) } else { string(value) }
    }

    /// `value`, or its hole in a writer leaving holes.
    public mutating func int(_ value: Int64, hole: JSONHole) {
        if leavesHoles { leave(hole) } else { int(value) }
    }

    /// `json`, or its hole in a writer leaving holes.
    public mutating func raw(_ json: String, hole: JSONHole) {
        if leavesHoles { leave(hole) } else { raw(json) }
    }

    /// Ends a line of a line-based format (the NOTIFY payloads): the next value starts afresh, without a comma.
    public mutating func lineBreak() {
        bytes.append(UInt8(ascii: "\n"))
        needsComma = false
    }

    private mutating func leave(_ hole: JSONHole) {
        separate()
        holes.append((bytes.count, hole))
        needsComma = true
    }

    public mutating func strings(_ values: [String]) {
        beginArray()
        for value in values { string(value) }
        endArray()
    }

    public mutating func ints(_ values: [Int64]) {
        beginArray()
        for value in values { int(value) }
        endArray()
    }

    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .int(let number): int(number)
        case .double(let number): double(number)
        case .string(let text): string(text)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                key(name)
                self.value(member)
            }
            endObject()
        }
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `text` quoted, copying each run of bytes that need no escape in one append: titles and messages are mostly
    /// such runs, and a byte at a time was the largest cost of writing a page.
    private mutating func appendQuoted(_ text: String) {
        var text = text
        text.withUTF8 { _ = appendQuoted($0) }
    }

    /// Returns whether every byte was ASCII.
    @discardableResult
    private mutating func appendQuoted(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.append(UInt8(ascii: "\""))
        var start = 0
        var highBits: UInt8 = 0
        for index in utf8.indices {
            let byte = utf8[index]
            highBits |= byte
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
            appendEscape(byte)
            start = index + 1
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        bytes.append(UInt8(ascii: "\""))
        return highBits < 0x80
    }

    private mutating func appendEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        default:
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0x0F)])
        }
    }
}
