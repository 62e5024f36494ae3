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

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let outcome = NIOLockedValueBox<CheckedContinuation<Response, any Error>?>(nil)
        let finish = { @Sendable (result: Result<Response, any Error>) in
            outcome.withLockedValue { pending in
                pending?.resume(with: result)
                pending = nil
            }
        }
        let handler = Task {
            do {
                finish(.success(try await next.respond(to: request)))
            } catch {
                finish(.failure(error))
            }
        }
        let timer = Task {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            finish(.failure(HeraldError.unavailable("Database unavailable: request timed out")))
            handler.cancel()
        }
        defer { timer.cancel() }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.withLockedValue { $0 = continuation }
            }
        } onCancel: {
            handler.cancel()
        }
    }
}
