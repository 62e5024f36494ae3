import Vapor

extension RoutesBuilder {
    /// A route whose handler runs in a task of its own, bound to the request's deadline (``RequestDeadline``), which
    /// cancels it. A Vapor `async` route runs in a task the deadline cannot reach, and every `AsyncMiddleware` in
    /// front of it adds another; with this and future-based middleware, a request pays for one task.
    @discardableResult
    func on(
        _ method: HTTPMethod, _ path: PathComponent..., body: HTTPBodyStreamStrategy = .collect,
        task handler: @escaping @Sendable (Request) async throws -> Response
    ) -> Route {
        on(method, path, body: body) { request -> EventLoopFuture<Response> in
            let promise = request.eventLoop.makePromise(of: Response.self)
            let task = promise.completeWithTask { try await handler(request) }
            request.storage[RequestDeadline.Key.self]?.bind(task)
            return promise.futureResult
        }
    }
}
