/// Keeps credentials out of logs: JWTs wherever they appear, the value of any `token=` query parameter,
/// and `Bearer` credentials. Every log handler Herald installs runs each message and metadata value through it,
/// so a library that logs a URL or a header (Vapor does at trace level) cannot leak one either.
public enum LogRedactor {
    public static let mask = "[REDACTED]"

    /// `text` with every credential replaced by ``mask``. Text without a hint of one is returned as is.
    public static func redact(_ text: String) -> String {
        guard text.contains("eyJ") || text.contains("token=") || text.contains("earer ") else { return text }
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if let end = credentialEnd(bytes, at: index) {
                output.append(contentsOf: mask.utf8)
                index = end
                continue
            }
            // `access_token=`, `id_token=` and the like are credentials too, so no boundary is required here.
            if let valueStart = prefixEnd(bytes, at: index, of: "token=") ?? prefixEnd(bytes, at: index, of: "Bearer ")
                ?? prefixEnd(bytes, at: index, of: "bearer ")
            {
                output.append(contentsOf: bytes[index..<valueStart])
                var end = valueStart
                while end < bytes.count, !isValueEnd(bytes[end]) { end += 1 }
                if end > valueStart { output.append(contentsOf: mask.utf8) }
                index = end
                continue
            }
            output.append(bytes[index])
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The end of a JWT-shaped run starting at `index`: `eyJ`, then base64url with at least one dot.
    private static func credentialEnd(_ bytes: [UInt8], at index: Int) -> Int? {
        guard prefixEnd(bytes, at: index, of: "eyJ") != nil, isBoundary(bytes, before: index) else { return nil }
        var end = index
        var dots = 0
        while end < bytes.count, isBase64URL(bytes[end]) || bytes[end] == UInt8(ascii: ".") {
            if bytes[end] == UInt8(ascii: ".") { dots += 1 }
            end += 1
        }
        return dots >= 1 ? end : nil
    }

    private static func prefixEnd(_ bytes: [UInt8], at index: Int, of prefix: StaticString) -> Int? {
        let count = prefix.utf8CodeUnitCount
        guard index + count <= bytes.count else { return nil }
        let matches = prefix.withUTF8Buffer { buffer in
            buffer.indices.allSatisfy { bytes[index + $0] == buffer[$0] }
        }
        return matches ? index + count : nil
    }

    private static func isBoundary(_ bytes: [UInt8], before index: Int) -> Bool {
        index == 0 || !isBase64URL(bytes[index - 1])
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "="),
            UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "%"):
            return true
        default:
            return false
        }
    }

    /// Where a query value or header credential stops.
    private static func isValueEnd(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\"")
            || byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\n")
            || byte == UInt8(ascii: ",") || byte == UInt8(ascii: ")") || byte == UInt8(ascii: "#")
    }
}
