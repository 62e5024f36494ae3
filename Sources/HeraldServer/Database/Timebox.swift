import NIOConcurrencyHelpers

/// Runs an operation for at most a given time without waiting for it past that.
///
/// A task group cannot do this: it waits for every child before it returns, and a query on a connection whose
/// peer went silent neither finishes nor notices cancellation. The operation here runs in a task of its own that
/// is left to finish (or fail, once its connection is closed) after the caller has moved on.
enum Timebox {
    /// The operation's value, or `nil` if it has not finished within `limit`.
    static func value<T: Sendable>(
        within limit: Duration, _ operation: @escaping @Sendable () async -> T
    ) async -> T? {
        let state = NIOLockedValueBox(Pending<T>())
        // Whichever comes first, the value or the timer, resumes the caller; the other finds nothing to resume.
        let finish = { @Sendable (value: T?) in
            let (continuation, timer) = state.withLockedValue { state in
                defer { state.continuation = nil }
                return (state.continuation, state.timer)
            }
            timer?.cancel()
            continuation?.resume(returning: value)
        }
        return await withCheckedContinuation { continuation in
            state.withLockedValue { $0.continuation = continuation }
            let work = Task { finish(await operation()) }
            let timer = Task {
                try? await Task.sleep(for: limit)
                guard !Task.isCancelled else { return }
                finish(nil)
                work.cancel()
            }
            state.withLockedValue { $0.timer = timer }
        }
    }

    /// The caller waiting for ``value(within:_:)``, and the timer to stop once it has its answer.
    private struct Pending<T: Sendable> {
        var continuation: CheckedContinuation<T?, Never>?
        var timer: Task<Void, Never>?
    }
}
