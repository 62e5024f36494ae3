/// What falls due at each wall-clock second, for a timer that ticks once a second on one event loop. It replaces a
/// scheduled task per item (its promise and closure: a few hundred bytes each) for the registry's two kinds of
/// deadline: sockets whose token expires, and notifications whose expiry changes their recipients' counts.
///
/// A value, driven by ``take(through:)``: the caller says what time it is, so the wheel is tested without a clock.
struct ExpiryWheel<Key: Hashable> {
    private var due: [Int64: Set<Key>] = [:]
    /// The last second whose items were taken.
    private(set) var handledThrough: Int64
    /// Items waiting.
    private(set) var count = 0

    init(now: Int64) {
        handledThrough = now
    }

    /// Files `key` under `second`; `false` (and nothing filed) when that second has already been handled, so the
    /// caller acts now.
    mutating func add(_ key: Key, at second: Int64) -> Bool {
        guard second > handledThrough else { return false }
        if due[second, default: []].insert(key).inserted { count += 1 }
        return true
    }

    /// Takes `key` out of `second`, if it is there (a socket closed, or its token was refreshed).
    mutating func remove(_ key: Key, at second: Int64) {
        guard due[second]?.remove(key) != nil else { return }
        count -= 1
        if due[second]?.isEmpty == true { due[second] = nil }
    }

    /// Everything filed up to `now`, taken out. Nothing while `now` is not past the last second handled (the same
    /// second again, or a clock set back). A clock that jumped more than an hour forward is caught up in one pass
    /// over what is filed, not second by second.
    mutating func take(through now: Int64) -> [Key] {
        guard now > handledThrough else { return [] }
        let seconds = now - handledThrough > 3_600 ? due.keys.filter { $0 <= now } : Array((handledThrough + 1)...now)
        handledThrough = now
        var taken: [Key] = []
        for second in seconds {
            guard let keys = due.removeValue(forKey: second) else { continue }
            taken += keys
        }
        count -= taken.count
        return taken
    }
}
