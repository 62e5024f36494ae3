/// A strict RFC 8259 parser from UTF-8 bytes to ``JSONValue``, in one pass and without Foundation.
///
/// Every publish body and every token's header and claims are parsed once per request. Foundation's
/// `JSONDecoder` first builds its own tree, then walks it again through `Decodable` with a container per value and
/// a retry per type (``JSONValue``'s `init(from:)`), and that was a tenth of a handshake's CPU.
///
/// Clients must not notice the change, so it accepts what `JSONDecoder` accepts and refuses what it refuses (a test
/// compares the two on a corpus and its mutations): any value at the top, whitespace and a UTF-8 byte order mark
/// before it, whitespace after it, one trailing comma in an array or object; no comments, no leading zeros, no NaN;
/// strings must be valid UTF-8 with no unescaped control character and no lone surrogate escape. A whole number
/// that fits in 64 bits becomes `.int` however it is written (`3`, `3.0`, `3e0`), every other number `.double`; one
/// too large for a `Double` is refused. Of a repeated key the first value is kept. Nesting deeper than ``maxDepth``
/// is refused rather than risking the stack.
///
/// Where it differs, it is stricter: it reads UTF-8 only, never UTF-16 or UTF-32 (RFC 8259 requires UTF-8 between
/// systems), and a malformed number under a repeated key is refused where `JSONDecoder`, never reading the value it
/// drops, lets it through.
struct JSONParser {
    static let maxDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The one JSON document in `bytes`, or `nil` if they are not exactly one.
    static func parse(_ bytes: some Collection<UInt8>) -> JSONValue? {
        if let parsed = bytes.withContiguousStorageIfAvailable({ parse(buffer: $0) }) { return parsed }
        return Array(bytes).withUnsafeBufferPointer { parse(buffer: $0) }
    }

    private static func parse(buffer: UnsafeBufferPointer<UInt8>) -> JSONValue? {
        var parser = JSONParser(buffer)
        // A UTF-8 byte order mark is skipped, as RFC 8259 allows and JSONDecoder does.
        if buffer.count >= 3, buffer[0] == 0xEF, buffer[1] == 0xBB, buffer[2] == 0xBF { parser.index = 3 }
        guard let value = parser.value() else { return nil }
        parser.skipWhitespace()
        return parser.index == buffer.count ? value : nil
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"): index += 1
            default: return
            }
        }
    }

    private mutating func value() -> JSONValue? {
        skipWhitespace()
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "t"): return literal("true", .bool(true))
        case UInt8(ascii: "f"): return literal("false", .bool(false))
        case UInt8(ascii: "n"): return literal("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
        default: return nil
        }
    }

    private mutating func literal(_ word: StaticString, _ value: JSONValue) -> JSONValue? {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { return nil }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return nil }
        index += count
        return value
    }

    private mutating func object() -> JSONValue? {
        var members: [String: JSONValue] = [:]
        let complete = container(closing: UInt8(ascii: "}")) { parser in
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: "\""),
                let key = parser.string()
            else { return false }
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == UInt8(ascii: ":") else {
                return false
            }
            parser.index += 1
            guard let member = parser.value() else { return false }
            if members[key] == nil { members[key] = member }
            return true
        }
        return complete ? .object(members) : nil
    }

    private mutating func array() -> JSONValue? {
        var elements: [JSONValue] = []
        let complete = container(closing: UInt8(ascii: "]")) { parser in
            guard let element = parser.value() else { return false }
            elements.append(element)
            return true
        }
        return complete ? .array(elements) : nil
    }

    /// An object or array from its opening bracket to `closing`: `item` reads each member or element, and this
    /// the depth bound and the separators, one trailing comma included (as JSONDecoder allows it).
    private mutating func container(closing: UInt8, _ item: (inout JSONParser) -> Bool) -> Bool {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else { return false }
        index += 1
        /// Whether the next byte, after whitespace, closes the container (and takes it).
        func closes(_ parser: inout JSONParser) -> Bool {
            parser.skipWhitespace()
            guard parser.index < parser.bytes.count, parser.bytes[parser.index] == closing else { return false }
            parser.index += 1
            return true
        }
        if closes(&self) { return true }
        while true {
            guard item(&self) else { return false }
            skipWhitespace()
            guard index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: ","):
                index += 1
                if closes(&self) { return true }
            case closing:
                index += 1
                return true
            default: return false
            }
        }
    }

    /// A string from its opening quote. Runs without escapes are validated and copied whole; only escapes are
    /// handled byte by byte.
    private mutating func string() -> String? {
        index += 1
        var start = index
        var decoded: [UInt8]?
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let run = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if decoded == nil { return String(validating: run, as: UTF8.self) }
                decoded!.append(contentsOf: run)
                return String(validating: decoded!, as: UTF8.self)
            }
            if byte < 0x20 { return nil }
            if byte == UInt8(ascii: "\\") {
                if decoded == nil { decoded = [] }
                decoded!.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                index += 1
                guard index < bytes.count, escape(into: &decoded!) else { return nil }
                start = index
                continue
            }
            index += 1
        }
        return nil
    }

    /// One escape after its backslash, appended as UTF-8.
    private mutating func escape(into output: inout [UInt8]) -> Bool {
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): output.append(byte)
        case UInt8(ascii: "b"): output.append(0x08)
        case UInt8(ascii: "f"): output.append(0x0C)
        case UInt8(ascii: "n"): output.append(0x0A)
        case UInt8(ascii: "r"): output.append(0x0D)
        case UInt8(ascii: "t"): output.append(0x09)
        case UInt8(ascii: "u"):
            guard let unit = hex4() else { return false }
            var scalar = UInt32(unit)
            if (0xD800...0xDBFF).contains(unit) {
                // A high surrogate must be followed at once by an escaped low one.
                guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                else { return false }
                index += 2
                guard let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return false }
                scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(unit) {
                return false
            }
            guard let character = Unicode.Scalar(scalar) else { return false }
            output.append(contentsOf: UTF8.encode(character)!)
        default: return false
        }
        return true
    }

    private mutating func hex4() -> UInt16? {
        guard bytes.count - index >= 4 else { return nil }
        var unit: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            unit = unit << 4 | UInt16(digit)
            index += 1
        }
        return unit
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func number() -> JSONValue? {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count else { return nil }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            guard digits() else { return nil }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard digits() else { return nil }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index += 1
            }
            guard digits() else { return nil }
        }
        // The text is ASCII digits and signs only, so reading it as a String cannot fail.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if isInteger, let integer = Int64(text) { return .int(integer) }
        guard let double = Double(text), double.isFinite else { return nil }
        // As JSONDecoder does, a whole number written with a fraction or an exponent (`3.0`, `-3e2`) is an integer.
        if double.rounded(.towardZero) == double, abs(double) < 0x1p63 { return .int(Int64(double)) }
        return .double(double)
    }

    /// One or more decimal digits.
    private mutating func digits() -> Bool {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
        return index > start
    }
}
