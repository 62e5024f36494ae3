import NIOCore

/// Handshake token buckets per client address, for at most `capacity` addresses, forgetting the least recently
/// used first.
///
/// Two generations stand in for a recency list: every use moves an address into the current one, and when that
/// fills to half the capacity it becomes the previous one and the old previous generation is dropped, which holds
/// exactly the addresses not seen since. Each operation is O(1), where keeping a true LRU order would cost a list
/// update per handshake; wiping the whole table at the limit, as before, gave a flooding address a fresh burst.
struct AddressBuckets: Sendable {
    let capacity: Int
    private let makeBucket: @Sendable (NIODeadline) -> TokenBucket
    private var current: [String: TokenBucket] = [:]
    private var previous: [String: TokenBucket] = [:]

    init(capacity: Int, makeBucket: @escaping @Sendable (NIODeadline) -> TokenBucket) {
        self.capacity = max(2, capacity)
        self.makeBucket = makeBucket
    }

    /// Addresses remembered now.
    var count: Int { current.count + previous.count }

    /// Takes one token from `address`'s bucket; `false` if it is empty.
    mutating func take(_ address: String, now: NIODeadline = .now()) -> Bool {
        var bucket = current.removeValue(forKey: address) ?? previous.removeValue(forKey: address) ?? makeBucket(now)
        let allowed = bucket.take(now: now)
        current[address] = bucket
        if current.count >= capacity / 2 {
            previous = current
            current = [:]
        }
        return allowed
    }
}
