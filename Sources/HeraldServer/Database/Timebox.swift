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
                defer { (state.continuation, state.timer) = (nil, nil) }
                return (state.continuation, state.timer)
            }
            timer?.cancel()
            continuation?.resume(returning: value)
        }
        return await withCheckedContinuation { continuation in
            state.withLockedValue { $0.continuation = continuation }
            let work = Task { finish(await operation()) }
            let timer = DeadlineTimer(after: limit) {
                finish(nil)
                work.cancel()
            }
            // An operation that finished before its timer was stored (its continuation is already taken) stops
            // the timer here instead.
            let stray = state.withLockedValue { state -> DeadlineTimer? in
                if state.continuation == nil { return timer }
                state.timer = timer
                return nil
            }
            stray?.cancel()
        }
    }

    /// The caller waiting for ``value(within:_:)`` (`nil` once answered), and the timer to stop once it has its
    /// answer.
    private struct Pending<T: Sendable> {
        var continuation: CheckedContinuation<T?, Never>?
        var timer: DeadlineTimer?
    }
}
