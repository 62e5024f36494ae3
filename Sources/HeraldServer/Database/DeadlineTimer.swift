import NIOCore
import NIOPosix

/// A timer that runs an action once a limit has passed unless it is cancelled first: on the caller's event loop
/// when it runs on one, as Herald's tasks do (`herald` installs NIO's loops as Swift Concurrency's executor),
/// otherwise a sleeping task.
///
/// `Task.sleep` is Dispatch's timer underneath, and a cancelled sleep still fires when it was due: each time box
/// (one per group-commit batch, as it was) woke Dispatch's timer thread and one of its workers a `REQUEST_TIMEOUT` later. A
/// publish cost 9.1 context switches with them and 5.8 without (`perf stat`, 1,000 publishes a second). A loop's
/// timer is an entry in the heap of a thread that is awake anyway, removed when cancelled.
enum DeadlineTimer: Sendable {
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
