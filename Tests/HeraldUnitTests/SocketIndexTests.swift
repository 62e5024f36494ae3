import Testing

@testable import HeraldServer

/// The per-user bookkeeping every socket pays for: which sockets a user has on a loop (``SessionSet``) and how
/// many across the instance (``ConnectionLimiter``).
@Suite("Socket indexes")
struct SocketIndexTests {
    final class Session: Identifiable {
        let id: UInt64
        init(_ id: UInt64) { self.id = id }
    }

    @Test("a user's sockets: added, replaced by id, removed, and every one visited once")
    func sessionSet() {
        var set = SessionSet<Session>.empty
        #expect(set.isEmpty && set.count == 0 && Array(set).isEmpty && set.first == nil)
        set.insert(Session(1))
        #expect(set.count == 1 && set.map(\.id) == [1])
        let replacement = Session(1)
        set.insert(replacement)
        #expect(set.count == 1 && set.first === replacement)
        set.insert(Session(2))
        set.insert(Session(3))
        #expect(Set(set.map(\.id)) == [1, 2, 3] && set.count == 3)
        set.remove(2)
        #expect(Set(set.map(\.id)) == [1, 3])
        set.remove(9)
        #expect(set.count == 2, "removing what is not there changes nothing")
        set.remove(1)
        #expect(set.map(\.id) == [3])
        set.remove(3)
        #expect(set.isEmpty && Array(set).isEmpty)
    }

    @Test("the per-user limit: admitted up to it, then refused, or the oldest evicted, in the order opened")
    func limiter() {
        typealias Entry = ConnectionLimiter.Entry
        let rejecting = ConnectionLimiter(limit: 2, policy: .reject)
        #expect(rejecting.admit("u", Entry(sessionID: 1, shard: 0)) == .admitted)
        #expect(rejecting.admit("u", Entry(sessionID: 2, shard: 1)) == .admitted)
        #expect(rejecting.admit("u", Entry(sessionID: 3, shard: 0)) == .rejected)
        #expect(rejecting.admit("v", Entry(sessionID: 4, shard: 0)) == .admitted, "the limit is per user")
        rejecting.release("u", Entry(sessionID: 1, shard: 0))
        #expect(rejecting.admit("u", Entry(sessionID: 5, shard: 0)) == .admitted, "a closed socket frees its place")

        let evicting = ConnectionLimiter(limit: 2, policy: .evictOldest)
        for id in 1...2 { _ = evicting.admit("u", Entry(sessionID: UInt64(id), shard: 0)) }
        #expect(evicting.admit("u", Entry(sessionID: 3, shard: 0)) == .admittedEvicting(Entry(sessionID: 1, shard: 0)))
        #expect(evicting.admit("u", Entry(sessionID: 4, shard: 0)) == .admittedEvicting(Entry(sessionID: 2, shard: 0)))
        evicting.release("u", Entry(sessionID: 3, shard: 0))
        #expect(evicting.admit("u", Entry(sessionID: 5, shard: 0)) == .admitted)
        #expect(evicting.admit("u", Entry(sessionID: 6, shard: 0)) == .admittedEvicting(Entry(sessionID: 4, shard: 0)))

        let single = ConnectionLimiter(limit: 1, policy: .evictOldest)
        #expect(single.admit("u", Entry(sessionID: 1, shard: 0)) == .admitted)
        #expect(single.admit("u", Entry(sessionID: 2, shard: 0)) == .admittedEvicting(Entry(sessionID: 1, shard: 0)))
        single.release("u", Entry(sessionID: 1, shard: 0))
        #expect(
            single.admit("u", Entry(sessionID: 3, shard: 0)) == .admittedEvicting(Entry(sessionID: 2, shard: 0)),
            "releasing an evicted socket again frees nothing")
    }
}
