import NIOConcurrencyHelpers
import Vapor

/// One request's deadline (``DeadlineMiddleware``) and the task that answers it (a route registered with
/// `on(_:_:body:task:)`): whichever of the two comes second finds the other, so a task that starts after the
/// deadline has passed is cancelled as it starts, and one running when it passes is cancelled then.
///
/// Cancelling is what makes the deadline more than an early answer: a handler waiting for a pool connection or
/// between two statements stops there, instead of going on to change what the client was told may not have
/// changed.
final class RequestDeadline: Sendable {
    private enum State {
        case pending(Task<Void, Never>?)
        case passed
    }

    private let state = NIOLockedValueBox(State.pending(nil))

    /// The task answering the request: cancelled now if the deadline has passed, or when it passes.
    func bind(_ task: Task<Void, Never>) {
        let passed = state.withLockedValue { state -> Bool in
            guard case .pending = state else { return true }
            state = .pending(task)
            return false
        }
        if passed { task.cancel() }
    }

    /// The deadline has passed: cancels the task, if one is bound, and any bound later.
    func pass() {
        let task = state.withLockedValue { state -> Task<Void, Never>? in
            defer { state = .passed }
            guard case .pending(let task) = state else { return nil }
            return task
        }
        task?.cancel()
    }

    enum Key: StorageKey {
        typealias Value = RequestDeadline
    }
}
