import Foundation

/// ISO 8601 in UTC with a `Z` and milliseconds (the wire format), formatted without `ISO8601DateFormatter`, which is
/// slow and not thread-safe to share.
public enum Timestamp {
    public static func string(_ date: Date = Date()) -> String {
        string(unixMilliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()))
    }

    /// A `timestamptz` as PostgreSQL sends it in binary (microseconds since 2000-01-01 UTC), cut to milliseconds
    /// as SQL's `herald_ts` cuts it (`to_char`'s `MS` truncates), so a notification's `created_at` reads the same
    /// from a page, a replay and the NOTIFY payload that `herald_ts` formats.
    public static func string(postgresMicroseconds micros: Int64) -> String {
        string(unixMilliseconds: unixMilliseconds(postgresMicroseconds: micros))
    }

    static func unixMilliseconds(postgresMicroseconds micros: Int64) -> Int64 {
        // PostgreSQL's `infinity` and `-infinity` are the extremes of Int64; they stay far outside any real
        // notification's dates rather than overflowing.
        let (unixMicros, overflow) = micros.addingReportingOverflow(946_684_800_000_000)
        let clamped = overflow ? (micros > 0 ? Int64.max : Int64.min) : unixMicros
        let (quotient, remainder) = clamped.quotientAndRemainder(dividingBy: 1000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// The length of `YYYY-MM-DDTHH:MM:SS.mmmZ`.
    static let length = 24

    static func string(unixMilliseconds millis: Int64) -> String {
        let text = String(unsafeUninitializedCapacity: length) { format(unixMilliseconds: millis, into: $0) }
        guard text.isEmpty else { return text }
        let parts = fields(unixMilliseconds: millis)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.year, parts.month, parts.day, parts.hour,
            parts.minute, parts.second, parts.fraction)
    }

    /// Writes the ``length`` bytes of the text into `bytes` and returns how many (0 when the year is outside
    /// 0...9999, which only the slow path of ``string(unixMilliseconds:)`` formats). Digits by hand:
    /// `String(format:)` went through Foundation's formatter for every frame and log line, and an inbox page
    /// writes four timestamps per item straight into its JSON (``JSONWriter/timestamp(postgresMicroseconds:)``).
    static func format(unixMilliseconds millis: Int64, into bytes: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let parts = fields(unixMilliseconds: millis)
        guard (0...9999).contains(parts.year), bytes.count >= length else { return 0 }
        var index = 0
        func put(_ value: Int, width: Int, then separator: UInt8) {
            var rest = value
            for offset in stride(from: width - 1, through: 0, by: -1) {
                bytes[index + offset] = UInt8(ascii: "0") + UInt8(rest % 10)
                rest /= 10
            }
            bytes[index + width] = separator
            index += width + 1
        }
        put(parts.year, width: 4, then: UInt8(ascii: "-"))
        put(parts.month, width: 2, then: UInt8(ascii: "-"))
        put(parts.day, width: 2, then: UInt8(ascii: "T"))
        put(parts.hour, width: 2, then: UInt8(ascii: ":"))
        put(parts.minute, width: 2, then: UInt8(ascii: ":"))
        put(parts.second, width: 2, then: UInt8(ascii: "."))
        put(parts.fraction, width: 3, then: UInt8(ascii: "Z"))
        return index
    }

    private static func fields(unixMilliseconds millis: Int64) -> (
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, fraction: Int
    ) {
        // Floored, so a time before 1970 gets a fraction in 0...999 rather than a negative one.
        let wholeSeconds = millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000)
        var seconds = time_t(wholeSeconds)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return (
            Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour),
            Int(parts.tm_min), Int(parts.tm_sec), Int(millis - wholeSeconds * 1000)
        )
    }

    /// Wall-clock milliseconds since 1970, to compare with `expires_at`.
    public static func millisecondsNow() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }

    /// Wall-clock microseconds since 1970: when a publisher sent a notification, for the publish-to-send histogram.
    public static func microsecondsNow() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }

    /// The RFC 3339 `date-time` that `/openapi.json` declares for `expires_at`, as a regular expression, so
    /// the document and ``parse(_:)`` accept exactly the same strings.
    public static let pattern =
        #"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"#
        + #"(\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"#

    /// Parses an RFC 3339 `date-time` (``pattern``): `T`, optional fraction, `Z` or an offset. A day past the
    /// end of its month (February 30) is refused, as JSON Schema's `date-time` format refuses it.
    public static func parse(_ text: String) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + count] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            index += count
            return value
        }
        func expect(_ allowed: String) -> Bool {
            guard index < bytes.count, allowed.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = digits(4), expect("-"), let month = digits(2), (1...12).contains(month), expect("-"),
            let day = digits(2), (1...31).contains(day), expect("Tt"), let hour = digits(2), hour < 24, expect(":"),
            let minute = digits(2), minute < 60, expect(":"), let second = digits(2), second < 60
        else { return nil }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard day <= monthDays[month - 1] else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                fraction += Double(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
            guard (1...9).contains(index - start) else { return nil }
        }
        var offset = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = digits(2), hours < 24, expect(":"), let minutes = digits(2), minutes < 60 else {
                return nil
            }
            offset = sign * (hours * 3600 + minutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
        let shifted = month <= 2 ? year - 1 : year
        let era = (shifted >= 0 ? shifted : shifted - 399) / 400
        let yearOfEra = shifted - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468 + (day - 1)
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }
}
