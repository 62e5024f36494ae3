import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

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
            let timer = Timer(after: limit) {
                finish(nil)
                work.cancel()
            }
            // An operation that finished before its timer was stored (its continuation is already taken) stops
            // the timer here instead.
            let stray = state.withLockedValue { state -> Timer? in
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
        var timer: Timer?
    }

    /// The time box's timer: on the caller's event loop when it runs on one, as Herald's tasks do (`herald`
    /// installs NIO's loops as Swift Concurrency's executor), otherwise a sleeping task.
    ///
    /// `Task.sleep` is Dispatch's timer underneath, and a cancelled sleep still fires when it was due: each time
    /// box (one per group-commit batch) woke Dispatch's timer thread and one of its workers a `REQUEST_TIMEOUT`
    /// later. A publish cost 9.1 context switches with them and 5.8 without (`perf stat`, 1,000 publishes a
    /// second). A loop's timer is an entry in the heap of a thread that is awake anyway, removed when cancelled.
    private enum Timer: Sendable {
        case scheduled(Scheduled<Void>)
        case sleeping(Task<Void, Never>)

        init(after limit: Duration, fire: @escaping @Sendable () -> Void) {
            if let loop = MultiThreadedEventLoopGroup.currentEventLoop {
                self = .scheduled(loop.scheduleTask(in: TimeAmount(limit), fire))
            } else {
                self = .sleeping(
                    Task {
                        try? await Task.sleep(for: limit)
                        guard !Task.isCancelled else { return }
                        fire()
                    })
            }
        }

        func cancel() {
            switch self {
            case .scheduled(let scheduled): scheduled.cancel()
            case .sleeping(let task): task.cancel()
            }
        }
    }
}
