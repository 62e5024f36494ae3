/// A request target as it arrived (`/path?query#fragment`), split without decoding anything.
///
/// It is searched as UTF-8, not as `Character`s: a socket handshake's target carries its token, and breaking a few
/// hundred bytes into grapheme clusters, once for the path and once for the query, was 5 % of a handshake's CPU.
/// `?` and `#` are ASCII, so they never fall inside a multi-byte character.
enum RequestTarget {
    /// What comes before the query or fragment.
    static func path(of target: String) -> Substring {
        let utf8 = target.utf8
        let end = utf8.firstIndex { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? utf8.endIndex
        return Substring(utf8[..<end])
    }

    /// The query, as sent (still percent-encoded), or `nil` without one. A `?` inside the fragment starts no query.
    static func query(of target: String) -> Substring? {
        let utf8 = target.utf8
        guard let mark = utf8.firstIndex(where: { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") }),
            utf8[mark] == UInt8(ascii: "?")
        else { return nil }
        let rest = utf8[utf8.index(after: mark)...]
        return Substring(rest.firstIndex(of: UInt8(ascii: "#")).map { rest[..<$0] } ?? rest)
    }
}
