import Vapor

/// Answers 503 when a request has not finished within `seconds` (`REQUEST_TIMEOUT`). A request may wait for a pool
/// connection that is slow to come; publishers must get a fast, retryable failure instead of a hang.
///
/// A timeout is not a lost database, and it says so. Each statement is cancelled by PostgreSQL
/// (`statement_timeout`, ``DatabaseTimeouts``) before this deadline, so a slow statement ends as "timed out;
/// nothing was changed". When this deadline fires first, the handler may still be between statements, so a write
/// is answered as a timeout whose effect is unknown: repeat it (a publish with its idempotency key).
///
/// The deadline is a timer on the request's event loop, and the route's task is cancelled, not awaited, when it
/// fires (``RequestDeadline``): waiting for it would wait for a handler stuck in a wait that ignores cancellation,
/// which is exactly the case this exists for. It works on futures, as every middleware every request passes does.
struct DeadlineMiddleware: Middleware {
    let seconds: Double

    /// What a request that ran out of time is told: a read changed nothing, a write may have.
    static func timeout(for method: HTTPMethod) -> HeraldError {
        if method == .GET || method == .HEAD { return .timedOut("Request timed out") }
        return .timedOut(
            "Request timed out; whether it took effect is unknown: repeat it (a publish with the same idempotency key)")
    }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let deadline = RequestDeadline()
        request.storage[RequestDeadline.Key.self] = deadline
        // A promise completes once: whichever of the answer and the timer comes first is what the client gets.
        let answer = request.eventLoop.makePromise(of: Response.self)
        let timer = request.eventLoop.scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
            answer.fail(Self.timeout(for: request.method))
            deadline.pass()
        }
        next.respond(to: request).whenComplete { result in
            timer.cancel()
            answer.completeWith(result)
        }
        return answer.futureResult
    }
}
