/// Checks UTF-8 as it arrives, fragment by fragment, so a text message that goes bad is refused (1007) at the
/// fragment where it does, not after the whole message was buffered (RFC 6455 §8.1, Autobahn 6.4).
///
/// Björn Höhrmann's DFA: one table lookup per byte, no allocation.
struct UTF8Validator {
    private var state: UInt8 = Self.accept

    private static let accept: UInt8 = 0
    private static let reject: UInt8 = 12

    /// Feeds `bytes`; `false` once the input can no longer be valid UTF-8.
    mutating func feed(_ bytes: some Sequence<UInt8>) -> Bool {
        var state = self.state
        for byte in bytes {
            let type = Self.types[Int(byte)]
            state = Self.transitions[Int(state) + Int(type)]
            if state == Self.reject { break }
        }
        self.state = state
        return state != Self.reject
    }

    /// Whether everything fed so far ends on a character boundary.
    var isComplete: Bool { state == Self.accept }

    private static let types: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 256)
        for byte in 0x80...0x8F { table[byte] = 1 }
        for byte in 0x90...0x9F { table[byte] = 9 }
        for byte in 0xA0...0xBF { table[byte] = 7 }
        for byte in 0xC0...0xC1 { table[byte] = 8 }
        for byte in 0xC2...0xDF { table[byte] = 2 }
        table[0xE0] = 10
        for byte in 0xE1...0xEC { table[byte] = 3 }
        table[0xED] = 4
        for byte in 0xEE...0xEF { table[byte] = 3 }
        table[0xF0] = 11
        for byte in 0xF1...0xF3 { table[byte] = 6 }
        table[0xF4] = 5
        for byte in 0xF5...0xFF { table[byte] = 8 }
        return table
    }()

    private static let transitions: [UInt8] = [
        0, 12, 24, 36, 60, 96, 84, 12, 12, 12, 48, 72, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
        12, 0, 12, 12, 12, 12, 12, 0, 12, 0, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 24, 12, 12,
        12, 12, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 24, 12, 12, 12, 12, 12, 12, 12, 24, 12, 12,
        12, 12, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12, 12, 36, 12, 12, 12, 12, 12, 36, 12, 36, 12, 12,
        12, 36, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12,
    ]
}
