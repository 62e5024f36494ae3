import Foundation
import HeraldServer
import HeraldTestSupport
import Testing

/// Every timestamp on the wire goes through `Timestamp.string`, whose digits are now written by hand.
@Suite("Timestamps")
struct TimestampTests {
    /// The formatting it replaced, as the reference.
    static func reference(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let whole = millis >= 0 ? millis / 1000 : -((-millis + 999) / 1000)
        var seconds = time_t(whole)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(millis - whole * 1000))
    }

    @Test("formats exactly like printf from year 1 to 9999, before 1970, at rounding edges, and past 9999")
    func matchesReference() {
        var random = SeededGenerator(seed: 6)
        var dates = [
            0, -0.001, -1, 0.0005, 0.9995, 59.9996, 1_700_000_000.123, 253_402_300_799.999, 253_402_300_800,
            -62_135_596_800,
        ].map(Date.init(timeIntervalSince1970:))
        for _ in 0..<5000 {
            let seconds = Double.random(in: -62_135_596_800...253_402_300_799, using: &random)
            dates.append(Date(timeIntervalSince1970: seconds))
        }
        for date in dates {
            let text = Timestamp.string(date)
            #expect(text == Self.reference(date), "\(date.timeIntervalSince1970)")
            if text.utf8.count == 24 { #expect(Timestamp.parse(text) != nil, "\(text)") }
        }
    }
}
