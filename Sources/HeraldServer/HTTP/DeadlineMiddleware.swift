import NIOConcurrencyHelpers
import Vapor

/// Answers 503 when a request has not finished within `seconds` (`REQUEST_TIMEOUT`). A request may wait for a pool
/// connection that is slow to come; publishers must get a fast, retryable failure instead of a hang.
///
/// A timeout is not a lost database, and it says so. Each statement is cancelled by PostgreSQL
/// (`statement_timeout`, ``DatabaseTimeouts``) before this deadline, so a slow statement ends as "timed out;
/// nothing was changed". When this deadline fires first, the handler may still be between statements, so a write
/// is answered as a timeout whose effect is unknown: repeat it (a publish with its idempotency key).
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

    /// What a request that ran out of time is told: a read changed nothing, a write may have.
    static func timeout(for method: HTTPMethod) -> HeraldError {
        if method == .GET || method == .HEAD { return .timedOut("Request timed out") }
        return .timedOut(
            "Request timed out; whether it took effect is unknown: repeat it (a publish with the same idempotency key)")
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
            finish(.failure(Self.timeout(for: request.method)))
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
