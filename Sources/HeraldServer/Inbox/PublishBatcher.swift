import NIOConcurrencyHelpers

/// Group commit: publishes that arrive while a batch commits go together in the next one
/// (``PublishBatchState`` decides), and each caller gets its own result.
///
/// Every publish holds the cluster-wide publish lock from drawing its ids to its commit, so publishes commit one
/// at a time. One at a time per request, a commit's fsync, lock hand-over and round trip capped publishing at
/// about 800 a second on the benchmark machine, with the CPU a quarter idle; one at a time per batch, the same
/// cost is shared by everything that arrived during it.
final class PublishBatcher<Item: Sendable>: Sendable {
    /// Runs one batch: one result per item, in order.
    typealias Run = @Sendable ([Item]) async -> [Result<Int64, any Error>]

    /// What a publish is told: its id, or the error that failed it.
    typealias Completion = @Sendable (Result<Int64, any Error>) -> Void

    private struct Waiter: Sendable {
        let item: Item
        let completion: Completion
    }

    private let state: NIOLockedValueBox<PublishBatchState<Waiter>>
    private let timeout: Duration
    private let run: Run
    private let stalledRun: @Sendable () -> Void

    /// `timeout` bounds each batch's run; see ``stalled``. `stalledRun` is told when a run missed it, so that what
    /// the run holds (its connection) can be let go and the next batch does not wait behind it.
    init(maxBatch: Int, timeout: Duration, run: @escaping Run, stalledRun: @escaping @Sendable () -> Void = {}) {
        self.state = NIOLockedValueBox(PublishBatchState(maxBatch: maxBatch))
        self.timeout = timeout
        self.run = run
        self.stalledRun = stalledRun
    }

    /// What a batch's publishes are told when its run has not finished within the timeout. Batches run one at a
    /// time, so a statement that never returns (seen on a connection PostgreSQL dropped while restarting) held
    /// every later publish for ever, until the process restarted, while every other query worked. The run is
    /// left to finish on its own and the next batch starts; whether the stalled one was stored is unknown, as the
    /// message says.
    static var stalled: HeraldError {
        .timedOut(
            "The database did not answer in time; whether the notification was stored is unknown: repeat the publish")
    }

    /// Publishes `item` in the next batch; its id, or the error that failed it.
    func submit(_ item: Item) async throws -> Int64 {
        try await withCheckedThrowingContinuation { continuation in
            submit(item) { continuation.resume(with: $0) }
        }
    }

    /// Publishes `item` in the next batch and tells `completion` its id, or the error that failed it, once, from
    /// the thread that ran the batch: for a caller on an event loop, which needs no task to wait in.
    func submit(_ item: Item, completion: @escaping Completion) {
        let batch = state.withLockedValue { $0.submit(Waiter(item: item, completion: completion)) }
        if let batch { start(batch) }
    }

    /// Runs `batch` in a task of its own against a timer (``DeadlineTimer``, on the caller's event loop).
    /// Whichever ends first answers the batch's publishes and starts the next batch; the other finds it answered.
    /// A run that missed the timer is cancelled and left to finish on its own.
    ///
    /// One task per batch and one loop timer: a time box around the run (``Timebox``) cost each batch a second
    /// task, a continuation and a lock of its own, 2 % of a publish's samples at 1,000 publishes a second.
    private func start(_ batch: [Waiter]) {
        let race = NIOLockedValueBox(Race())
        let items = batch.map(\.item)
        let timer = DeadlineTimer(after: timeout) {
            let (first, task) = race.withLockedValue { ($0.claim(), $0.task) }
            guard first else { return }
            task?.cancel()
            self.stalledRun()
            self.finish(batch, items.map { _ in .failure(Self.stalled) })
        }
        let run = run
        let task = Task {
            let results = await run(items)
            timer.cancel()
            guard race.withLockedValue({ $0.claim() }) else { return }
            self.finish(batch, results)
        }
        // Answered already: by the timer before the task was stored, so its run is cancelled here; or by the run
        // itself, whose task is then past its run, and what it still does (answering, starting the next batch in a
        // task of its own) heeds no cancellation.
        let answered = race.withLockedValue { race in
            race.task = task
            return race.answered
        }
        if answered { task.cancel() }
    }

    /// Which of a batch's run and its timer answered first, and the run's task, for the timer to cancel.
    private struct Race {
        private(set) var answered = false
        var task: Task<Void, Never>?

        /// True for the first of the run and the timer to ask, false for the other.
        mutating func claim() -> Bool {
            defer { answered = true }
            return !answered
        }
    }

    /// Answers each of `batch`'s publishes, then starts the batch that gathered meanwhile, if any.
    private func finish(_ batch: [Waiter], _ results: [Result<Int64, any Error>]) {
        for (index, waiter) in batch.enumerated() {
            waiter.completion(index < results.count ? results[index] : .failure(BatchShort(expected: batch.count)))
        }
        if let next = state.withLockedValue({ $0.finished() }) { start(next) }
    }

    /// The batch's run returned fewer results than items: those without one fail rather than wait for ever.
    struct BatchShort: Error {
        let expected: Int
    }
}
