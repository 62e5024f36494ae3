/// The server's side of the `permessage-deflate` negotiation (RFC 7692 §5, §7.1): reads the client's
/// `Sec-WebSocket-Extensions` offers in order of preference and accepts the first one Herald can honour. An offer
/// is declined, and the next one tried, when it is malformed: an unknown or repeated parameter, or a window size
/// outside 8…15 (§7.1). One asking for a server window of 8 bits is declined too, since zlib cannot write a raw
/// deflate stream with a 256-byte window. No acceptable offer means no compression, never a failed handshake.
package enum DeflateNegotiation {
    package static let extensionName = "permessage-deflate"

    /// The agreement for the first acceptable offer among `headerValues` (every `Sec-WebSocket-Extensions` line).
    package static func accept(_ headerValues: [String]) -> DeflateAgreement? {
        for value in headerValues {
            for element in split(value, on: ",") {
                if let agreement = accept(offer: element) { return agreement }
            }
        }
        return nil
    }

    /// One extension offer, `name; param; param=value`.
    private static func accept(offer: Substring) -> DeflateAgreement? {
        let parts = split(offer, on: ";")
        guard let name = parts.first, name.lowercased() == extensionName else { return nil }
        var seen: Set<String> = []
        var serverWindowBits: Int?
        for parameter in parts.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = pair[0].trimmingSpaces().lowercased()
            let value = pair.count == 2 ? unquoted(pair[1].trimmingSpaces()) : nil
            guard seen.insert(key).inserted else { return nil }
            switch key {
            case "server_no_context_takeover", "client_no_context_takeover":
                guard value == nil else { return nil }
            case "server_max_window_bits":
                guard let bits = value.flatMap(windowBits), DeflateCodec.windowSizes.contains(bits) else { return nil }
                serverWindowBits = bits
            case "client_max_window_bits":
                // Herald inflates with the largest window, which reads any smaller one, so it never limits the
                // client's; the parameter only has to be well formed.
                if let value, windowBits(value) == nil { return nil }
            default:
                return nil
            }
        }
        return DeflateAgreement(serverWindowBits: serverWindowBits ?? 15, windowBitsRequested: serverWindowBits != nil)
    }

    /// A window size: 1*DIGIT from 8 to 15, with no sign or leading zero (RFC 7692 §7.1.2).
    private static func windowBits(_ value: Substring) -> Int? {
        guard value.count <= 2, value.first != "0", value.allSatisfy(\.isASCIIDigit), let bits = Int(value),
            (8...15).contains(bits)
        else { return nil }
        return bits
    }

    /// A parameter's value without the quotes of a quoted-string (RFC 7230 §3.2.6; RFC 7692 §7.1 allows them).
    private static func unquoted(_ value: Substring) -> Substring {
        guard value.count >= 2, value.first == "\"", value.last == "\"" else { return value }
        return value.dropFirst().dropLast()
    }

    /// `text` split on `separator` outside quoted strings, each part trimmed; empty parts dropped.
    private static func split(_ text: some StringProtocol, on separator: Character) -> [Substring] {
        var parts: [Substring] = []
        var start = text.startIndex
        var quoted = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "\"" {
                quoted.toggle()
            } else if character == separator, !quoted {
                parts.append(Substring(text[start..<index]))
                start = text.index(after: index)
            }
            index = text.index(after: index)
        }
        parts.append(Substring(text[start..<text.endIndex]))
        return parts.map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var trimmed = self
        while let first = trimmed.first, first == " " || first == "\t" { trimmed = trimmed.dropFirst() }
        while let last = trimmed.last, last == " " || last == "\t" { trimmed = trimmed.dropLast() }
        return trimmed
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
