import NIOCore

/// Per-socket flood control: `burst` messages at once, refilled at `perSecond`. A plain value owned by its
/// session, so it needs no synchronisation.
struct TokenBucket {
    let burst: Double
    let perSecond: Double
    private var tokens: Double
    private var last: NIODeadline

    init(burst: Double, perSecond: Double, now: NIODeadline = .now()) {
        self.burst = burst
        self.perSecond = perSecond
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
