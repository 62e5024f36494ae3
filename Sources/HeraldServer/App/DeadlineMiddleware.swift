import NIOConcurrencyHelpers
import Vapor

/// Answers 503 when a request has not finished within `seconds`. While PostgreSQL is down, the pool keeps a
/// request waiting for a connection that may never come; publishers must get a fast, retryable failure instead
/// of a hang (a publish that did commit is safe to retry with its idempotency key).
///
/// The handler runs in its own task, which is cancelled, not awaited, at the deadline: a task group would wait for
/// a handler stuck in a wait that ignores cancellation, which is exactly the case this exists for.
struct DeadlineMiddleware: AsyncMiddleware {
    let seconds: Double

    /// Whichever comes first, the handler's result or the waiting continuation, waits here for the other: a
    /// handler that finishes before the continuation is installed must not lose its response.
    private enum Outcome {
        case pending
        case finished(Result<Response, any Error>)
        case waiting(CheckedContinuation<Response, any Error>)
        case done
    }

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let outcome = NIOLockedValueBox(Outcome.pending)
        let finish = { @Sendable (result: Result<Response, any Error>) in
            let continuation: CheckedContinuation<Response, any Error>? = outcome.withLockedValue { state in
                switch state {
                case .pending:
                    state = .finished(result)
                    return nil
                case .waiting(let continuation):
                    state = .done
                    return continuation
                case .finished, .done:
                    return nil
                }
            }
            continuation?.resume(with: result)
        }
        let handler = Task {
            do {
                finish(.success(try await next.respond(to: request)))
            } catch {
                finish(.failure(error))
            }
        }
        // A timer on the request's event loop, not a sleeping task: it costs a heap entry instead of a task and a
        // dispatch timer per request.
        let timer = request.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            finish(.failure(HeraldError.unavailable("Database unavailable: request timed out")))
            handler.cancel()
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let early: Result<Response, any Error>? = outcome.withLockedValue { state in
                    if case .finished(let result) = state {
                        state = .done
                        return result
                    }
                    state = .waiting(continuation)
                    return nil
                }
                if let early { continuation.resume(with: early) }
            }
        } onCancel: {
            handler.cancel()
        }
    }
}
