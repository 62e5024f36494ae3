import NIOCore

/// Per-socket flood control: `burst` messages at once, refilled at `perSecond`. A plain value owned by its
/// session, so it needs no synchronisation.
///
/// Every socket holds two, so the rates are kept as `Float` (24 bytes a bucket instead of 32); a rate of messages
/// a second loses nothing at that precision.
struct TokenBucket {
    private let burstRate: Float
    private let refillRate: Float
    private var tokens: Double
    private var last: NIODeadline

    var burst: Double { Double(burstRate) }
    var perSecond: Double { Double(refillRate) }

    init(burst: Double, perSecond: Double, now: NIODeadline = .now()) {
        self.burstRate = Float(burst)
        self.refillRate = Float(perSecond)
        self.tokens = burst
        self.last = now
    }

    /// Takes one token; `false` if the bucket is empty.
    mutating func take(now: NIODeadline = .now()) -> Bool {
        let elapsed = Double((now - last).nanoseconds) / 1e9
        last = now
        tokens = min(burst, tokens + elapsed * perSecond)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
