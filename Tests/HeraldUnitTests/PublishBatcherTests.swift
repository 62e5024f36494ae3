import NIOConcurrencyHelpers
import Testing

@testable import HeraldServer

/// Group commit's driver: a batch whose statement never returns must not hold the publishes after it.
@Suite("Publish batcher")
struct PublishBatcherTests {
    @Test(
        "a batch that never finishes is answered as stalled, its run cancelled and its connection let go, and the next batch is published",
        .timeLimit(.minutes(1)))
    func stalledBatch() async throws {
        let runs = NIOLockedValueBox(0)
        let stalls = NIOLockedValueBox(0)
        let cancelled = NIOLockedValueBox(false)
        let batcher = PublishBatcher<Int>(
            maxBatch: 10, timeout: .milliseconds(100),
            run: { items in
                let run = runs.withLockedValue { runs -> Int in
                    runs += 1
                    return runs
                }
                // The first run hangs, as a statement on a connection PostgreSQL dropped did.
                if run == 1 {
                    do {
                        try await Task.sleep(for: .seconds(3600))
                    } catch {
                        cancelled.withLockedValue { $0 = true }
                    }
                }
                return items.map { .success(Int64($0)) }
            },
            stalledRun: { stalls.withLockedValue { $0 += 1 } })
        do {
            _ = try await batcher.submit(1)
            Issue.record("the stalled batch's publish was answered as published")
        } catch let error as HeraldError {
            #expect(error == PublishBatcher<Int>.stalled)
        }
        // Told before the next batch runs, so that it does not queue behind the stalled statement.
        #expect(stalls.withLockedValue { $0 } == 1)
        #expect(try await batcher.submit(7) == 7)
        #expect(runs.withLockedValue { $0 } == 2)
        #expect(stalls.withLockedValue { $0 } == 1)
        // Cancelled when it was given up, so that it ends rather than hold what it waits on for ever.
        for _ in 0..<500 where !cancelled.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(cancelled.withLockedValue { $0 })
    }
}
