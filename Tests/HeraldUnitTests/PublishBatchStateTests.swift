import Testing

@testable import HeraldServer

@Suite("Group commit")
struct PublishBatchStateTests {
    @Test("a publish on a quiet server starts at once, alone; one that arrives meanwhile waits")
    func quietServerStartsAtOnce() {
        var state = PublishBatchState<Int>(maxBatch: 10)
        #expect(state.submit(1) == [1])
        #expect(state.isRunning)
        #expect(state.submit(2) == nil)
        #expect(state.waitingCount == 1)
    }

    @Test("what arrived during a batch goes together, in arrival order, when it finishes; then the server is idle")
    func waitersGoTogether() {
        var state = PublishBatchState<Int>(maxBatch: 10)
        _ = state.submit(1)
        for waiter in 2...5 { #expect(state.submit(waiter) == nil) }
        #expect(state.finished() == [2, 3, 4, 5])
        #expect(state.isRunning)
        #expect(state.finished() == nil)
        #expect(!state.isRunning)
        #expect(state.submit(6) == [6], "after the last batch, the next publish starts at once again")
    }

    @Test("a batch holds at most maxBatch publishes; the rest go in the batches after it")
    func batchesAreBounded() {
        var state = PublishBatchState<Int>(maxBatch: 3)
        _ = state.submit(0)
        for waiter in 1...7 { _ = state.submit(waiter) }
        #expect(state.finished() == [1, 2, 3])
        #expect(state.finished() == [4, 5, 6])
        #expect(state.finished() == [7])
        #expect(state.finished() == nil)
    }
}
