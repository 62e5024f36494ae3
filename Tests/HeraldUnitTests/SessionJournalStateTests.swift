import Foundation
import Testing

@testable import HeraldServer

@Suite("Session journal state")
struct SessionJournalStateTests {
    static func socket(_ n: UInt8, user: String = "u", locations: [String] = ["L"]) -> ClusterStore.Opened {
        ClusterStore.Opened(
            sessionID: UUID(uuid: (n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)), localID: UInt64(n), userID: user,
            locations: locations, connectedAt: Date(timeIntervalSince1970: Double(n)), clientAddress: nil,
            userAgent: nil)
    }

    @Test("the first change starts one flush; later ones join it; an empty batch ends it")
    func oneFlushAtATime() {
        var state = SessionJournalState()
        #expect(state.isIdle)
        let starts = [
            state.opened(Self.socket(1)), state.opened(Self.socket(2)), state.closed(Self.socket(9).sessionID),
        ]
        #expect(starts == [true, false, false])
        let batch = state.nextBatch(limit: 10)
        #expect(batch == .init(opened: [Self.socket(1), Self.socket(2)], closed: [Self.socket(9).sessionID]))
        #expect(!state.isIdle)
        let last = state.nextBatch(limit: 10)
        #expect(last == nil)
        #expect(state.isIdle)
        let again = state.closed(Self.socket(1).sessionID)
        #expect(again, "a change after the flush ended starts another")
    }

    @Test("batches keep the order sockets opened in, at most `limit` at a time")
    func batchesInOrder() {
        var state = SessionJournalState()
        for n in UInt8(1)...5 { _ = state.opened(Self.socket(n)) }
        let batch1 = state.nextBatch(limit: 2)
        #expect(batch1?.opened.map(\.localID) == [1, 2])
        let batch2 = state.nextBatch(limit: 2)
        #expect(batch2?.opened.map(\.localID) == [3, 4])
        _ = state.opened(Self.socket(6))
        let batch3 = state.nextBatch(limit: 2)
        #expect(batch3?.opened.map(\.localID) == [5, 6])
        let batch4 = state.nextBatch(limit: 2)
        #expect(batch4 == nil)
    }

    @Test("a socket that closes before its row is taken is never written, but its deletion is still sent")
    func closedBeforeWritten() {
        var state = SessionJournalState()
        _ = state.opened(Self.socket(1))
        _ = state.opened(Self.socket(2))
        _ = state.closed(Self.socket(1).sessionID)
        let batch = state.nextBatch(limit: 10)
        #expect(batch?.opened.map(\.localID) == [2])
        #expect(batch?.closed == [Self.socket(1).sessionID])
    }

    @Test("new locations replace what waits, in its place; after it was taken they are written again")
    func relocation() {
        var state = SessionJournalState()
        _ = state.opened(Self.socket(1))
        _ = state.opened(Self.socket(2))
        _ = state.opened(Self.socket(1, locations: ["M"]))
        let batch5 = state.nextBatch(limit: 10)
        #expect(batch5?.opened == [Self.socket(1, locations: ["M"]), Self.socket(2)])
        _ = state.opened(Self.socket(1, locations: ["N"]))
        let batch6 = state.nextBatch(limit: 10)
        #expect(batch6?.opened == [Self.socket(1, locations: ["N"])])
    }

    @Test("a failed batch goes back in front, less what closed meanwhile; closes and rechecks are kept")
    func failedBatch() {
        var state = SessionJournalState()
        _ = state.opened(Self.socket(1))
        _ = state.opened(Self.socket(2))
        _ = state.closed(Self.socket(7).sessionID)
        _ = state.resync([Self.socket(3, user: "r")])
        let batch = state.nextBatch(limit: 10)!
        #expect(batch.recheck == ["r"])
        _ = state.opened(Self.socket(4))
        _ = state.closed(Self.socket(2).sessionID)
        state.failed(batch)
        let retried = state.nextBatch(limit: 10)
        #expect(retried?.opened.map(\.localID) == [1, 3, 4])
        #expect(retried?.closed == [Self.socket(7).sessionID, Self.socket(2).sessionID])
        #expect(retried?.recheck == ["r"])
    }

    @Test("resync adds the sockets not already waiting, and rechecks their users")
    func resync() {
        var state = SessionJournalState()
        _ = state.opened(Self.socket(1, locations: ["new"]))
        _ = state.resync([Self.socket(1), Self.socket(2, user: "v")])
        let batch = state.nextBatch(limit: 10)
        #expect(batch?.opened == [Self.socket(1, locations: ["new"]), Self.socket(2, user: "v")])
        #expect(batch?.recheck == ["u", "v"])
    }

    @Test("ten thousand opens and closes stay linear")
    func manyChanges() {
        var state = SessionJournalState()
        var ids: [UUID] = []
        for n in 0..<10_000 {
            var socket = Self.socket(0)
            socket.sessionID = UUID()
            socket.localID = UInt64(n)
            ids.append(socket.sessionID)
            _ = state.opened(socket)
        }
        for (index, id) in ids.enumerated() where index % 2 == 0 { _ = state.closed(id) }
        var written = 0
        #expect(state.waitingCapacity >= 5000)
        while let batch = state.nextBatch(limit: 1000) { written += batch.opened.count }
        #expect(written == 5000)
        #expect(
            state.waitingCapacity <= SessionJournalState.keptCapacity,
            "once written, a storm's table is given back (about 100 bytes per socket)")
    }
}
