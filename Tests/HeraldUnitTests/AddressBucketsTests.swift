import NIOCore
import Testing

@testable import HeraldServer

/// Handshake buckets per address keep the recently used addresses and forget the rest first (issue 15).
@Suite("Address buckets")
struct AddressBucketsTests {
    static func buckets(capacity: Int) -> AddressBuckets {
        AddressBuckets(capacity: capacity) { now in TokenBucket(burst: 2, perSecond: 0.001, now: now) }
    }

    @Test("an address that keeps connecting keeps its empty bucket while thousands of others come and go")
    func floodingAddressStaysLimited() {
        var buckets = Self.buckets(capacity: 100)
        let now = NIODeadline.now()
        let burst = [buckets.take("flood", now: now), buckets.take("flood", now: now), buckets.take("flood", now: now)]
        #expect(burst == [true, true, false])
        for index in 0..<10_000 {
            _ = buckets.take("visitor-\(index)", now: now)
            if index % 10 == 0 {
                let allowed = buckets.take("flood", now: now)
                #expect(!allowed, "flood got a fresh burst at \(index)")
            }
            #expect(buckets.count <= 100)
        }
    }

    @Test("the least recently used addresses are the ones forgotten")
    func forgetsOldestFirst() {
        var buckets = Self.buckets(capacity: 10)
        let now = NIODeadline.now()
        for name in ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"] {
            _ = buckets.take(name, now: now)
            _ = buckets.take(name, now: now)
        }
        // All ten are exhausted; "a" is the oldest and has been forgotten, so it starts afresh.
        let oldest = buckets.take("a", now: now)
        let newest = buckets.take("j", now: now)
        #expect(oldest && !newest)
    }
}
