import Foundation
import HeraldTestSupport
import Testing

@testable import HeraldServer

/// ``JSONParser`` replaced Foundation's `JSONDecoder` on every request body and token. A client must not notice:
/// each document here, and thousands of mutations of them, must be accepted or refused as `JSONDecoder` does, and
/// give the same value when accepted.
@Suite("JSON parser")
struct JSONParserTests {
    /// What Herald got from Foundation before: the oracle.
    static func foundation(_ bytes: [UInt8]) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: Data(bytes))
    }

    static let documents: [String] = [
        #"{"user_id":"u-1","type":"system","title":"Chair \"3\"","message":"m","data":{"a":[1,2.5,-3e2,true,null]}}"#,
        #"{"location_id":42,"expires_in":3600,"collapse_key":"k","priority":"high"}"#,
        #"[1, -0, 0.5, 1E3, 1e-3, 12345678901234567890, -9223372036854775808, 9223372036854775807]"#,
        #"{"s":"\u00e9\ud83c\udf89\n\t\\\/\b\f\r","k":"é 🎉"}"#,
        #"  {"a" : [ ] , "b" : { } }  "#, "3", "-1.25", "\"text\"", "true", "null", "[[[[[]]]]]",
        #"{"a":1,"a":2}"#, #"{"":""}"#,
        "[1,]", "{\"a\":1,}", "[1.0, 2.50, 1e0, 0.1e1]",
        // Refused by both.
        "", " ", "{", "}", "[,]", "{,}", "[1,,]", "01", "-", "1.", ".5", "+1", "1e", "1e+", "NaN", "Infinity",
        "[1 2]", "{\"a\" 1}", "{a:1}", "'a'", "\"\\x\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"\\u12\"", "\"tab\there\"", "tru", "nul", "[true false]", "{} {}", "1e400", "-1e400", "\"\u{7F}\"",
        "[\"a\"]x", "{\"a\":[1,{\"b\":null}]}", "\u{FEFF}1", "\u{FEFF}{}",
    ]

    @Test("every document is accepted or refused as JSONDecoder does, with the same value")
    func agreesWithFoundationOnTheCorpus() {
        for document in Self.documents {
            let bytes = Array(document.utf8)
            #expect(JSONParser.parse(bytes) == Self.foundation(bytes), "\(document)")
        }
        // Where the two differ on purpose: a malformed value under a repeated key is refused, and UTF-16 is not read.
        #expect(JSONParser.parse(Array(#"{"a":1,"a":-}"#.utf8)) == nil)
        #expect(JSONParser.parse([0, 0x38]) == nil)
        // Bytes that are not UTF-8, inside and outside strings.
        for bytes: [UInt8] in [
            [0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xE2, 0x82, 0x22], [0xFF], [0x5B, 0xC0, 0x5D],
        ] {
            #expect(JSONParser.parse(bytes) == nil)
            #expect(Self.foundation(bytes) == nil)
        }
    }

    @Test("mutations of the corpus (bytes dropped, doubled, replaced) agree with JSONDecoder")
    func agreesWithFoundationOnMutations() {
        var random = SeededGenerator(seed: 0x4845_5241_4C44)
        let alphabet = Array(#"{}[]":,.-+eE0123456789 \tabnrtu"#.utf8) + [0xC3, 0xA9, 0x00, 0x1F]
        // Not the repeated key: JSONDecoder never reads the value it drops, so it lets `{"a":1,"a":-}` through,
        // where the parser refuses the malformed number.
        let seeds = Self.documents.filter { Self.foundation(Array($0.utf8)) != nil && $0 != #"{"a":1,"a":2}"# }
            .map { Array($0.utf8) }
        var compared = 0
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes = seeds[Int(random.next() % UInt64(seeds.count))]
            for _ in 0...(random.next() % 3) where !bytes.isEmpty {
                let at = Int(random.next() % UInt64(bytes.count))
                switch random.next() % 3 {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(bytes[at], at: at)
                default: bytes[at] = alphabet[Int(random.next() % UInt64(alphabet.count))]
                }
            }
            // JSONDecoder reads a document that starts with a NUL as UTF-16 or UTF-32 (RFC 4627's detection);
            // Herald's clients send UTF-8 (RFC 8259 requires it), and the parser refuses such bytes.
            if bytes.prefix(4).contains(0) { continue }
            let expected = Self.foundation(bytes).map(Self.beyondDoublePrecision)
            let actual = JSONParser.parse(bytes).map(Self.beyondDoublePrecision)
            compared += 1
            if expected != nil { accepted += 1 }
            if actual != expected {
                Issue.record(
                    "\(String(decoding: bytes, as: UTF8.self).debugDescription): \(String(describing: actual)) ≠ \(String(describing: expected))"
                )
                return
            }
        }
        // The mutations must exercise both outcomes, or the comparison says little.
        #expect(accepted > compared / 10 && accepted < compared * 9 / 10, "\(accepted) of \(compared) accepted")
    }

    /// Past 2^53 a Double cannot tell neighbouring integers apart, and JSONDecoder is not exact there either: it
    /// reads `-92233722036854775.08` as `-92233722036854775` (the parser, rounding correctly, as
    /// `-92233722036854768`). Such integers are compared as the Double they round to.
    static func beyondDoublePrecision(_ value: JSONValue) -> JSONValue {
        switch value {
        case .int(let integer) where integer.magnitude > 1 << 53: return .double(Double(integer))
        case .array(let elements): return .array(elements.map(beyondDoublePrecision))
        case .object(let members): return .object(members.mapValues(beyondDoublePrecision))
        default: return value
        }
    }

    @Test("nesting deeper than the limit is refused, not a crash")
    func deepNesting() {
        let limit = JSONParser.maxDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(JSONParser.parse(Array(deepest.utf8)) != nil)
        let tooDeep = String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1)
        #expect(JSONParser.parse(Array(tooDeep.utf8)) == nil)
        #expect(JSONParser.parse(Array(String(repeating: "{\"a\":", count: 100_000).utf8)) == nil)
    }
}
