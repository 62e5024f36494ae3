import NIOCore

/// Group commit's bookkeeping, as a value that decides: at most one batch is running; what arrives meanwhile
/// waits, and goes as the next batch (up to ``maxBatch``) when the running one finishes.
///
/// Nothing waits for company: a publish that finds no batch running starts one alone, so a quiet server adds no
/// delay, and a busy one commits as many publishes as arrived during one commit.
struct PublishBatchState<Waiter> {
    let maxBatch: Int
    private var waiting = CircularBuffer<Waiter>()
    private(set) var isRunning = false

    init(maxBatch: Int) {
        precondition(maxBatch > 0)
        self.maxBatch = maxBatch
    }

    var waitingCount: Int { waiting.count }

    /// A publish arrived: the batch to start now, or `nil` if it waits for the running one.
    mutating func submit(_ waiter: Waiter) -> [Waiter]? {
        waiting.append(waiter)
        return isRunning ? nil : takeBatch()
    }

    /// The running batch finished: the next batch to start, or `nil` if nothing waits.
    mutating func finished() -> [Waiter]? {
        precondition(isRunning, "no batch is running")
        isRunning = false
        return waiting.isEmpty ? nil : takeBatch()
    }

    private mutating func takeBatch() -> [Waiter] {
        isRunning = true
        let count = min(maxBatch, waiting.count)
        defer { waiting.removeFirst(count) }
        return Array(waiting.prefix(count))
    }
}

extension PublishBatchState: Sendable where Waiter: Sendable {}
