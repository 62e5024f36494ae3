import Testing
import Vapor

@testable import HeraldServer

/// `REQUEST_TIMEOUT` through Vapor's responder, as every timed route is reached: the deadline answers, and it
/// cancels the route's task, so a handler past its time stops instead of going on to change things.
@Suite("Request deadline")
struct RequestDeadlineTests {
    /// Runs `body` with an application whose one route, behind a deadline of `seconds`, runs `handler`.
    static func withRoute(
        deadline seconds: Double = 0.2, _ handler: @escaping @Sendable (Request) async throws -> Response,
        _ body: (Application) async throws -> Void
    ) async throws {
        let app = try await Application.make(.testing)
        do {
            app.middleware = Middlewares()
            app.grouped(DeadlineMiddleware(seconds: seconds)).on(.POST, "work", task: handler)
            try await body(app)
        } catch {
            try await app.asyncShutdown()
            throw error
        }
        try await app.asyncShutdown()
    }

    static func post(_ app: Application) async throws -> Response {
        let request = Request(
            application: app, method: .POST, url: URI(path: "/work"), on: app.eventLoopGroup.any())
        return try await app.responder.current.respond(to: request).get()
    }

    @Test("a handler past its deadline is answered 503 as of unknown effect, and is cancelled")
    func cancelsTheHandler() async throws {
        let (outcomes, outcome) = AsyncStream<String>.makeStream()
        try await Self.withRoute({ _ in
            do {
                try await Task.sleep(for: .seconds(60))
                outcome.yield("finished")
            } catch {
                outcome.yield(error is CancellationError ? "cancelled" : "\(error)")
            }
            return Response(status: .ok)
        }) { app in
            await #expect(throws: DeadlineMiddleware.timeout(for: .POST)) {
                _ = try await Self.post(app)
            }
            var iterator = outcomes.makeAsyncIterator()
            #expect(await iterator.next() == "cancelled")
        }
    }

    /// A deadline no loaded machine reaches: with 0.2 s, a busy CI host once answered the instant handler 503.
    @Test("a handler within its deadline is answered with what it returned")
    func answersInTime() async throws {
        try await Self.withRoute(deadline: 60, { _ in Response(status: .accepted) }) { app in
            let response = try await Self.post(app)
            #expect(response.status == .accepted)
        }
    }

    @Test("a task bound after the deadline passed is cancelled at once")
    func lateTask() async {
        let deadline = RequestDeadline()
        deadline.pass()
        let (outcomes, outcome) = AsyncStream<Bool>.makeStream()
        let task = Task {
            try? await Task.sleep(for: .seconds(60))
            outcome.yield(Task.isCancelled)
        }
        deadline.bind(task)
        var iterator = outcomes.makeAsyncIterator()
        #expect(await iterator.next() == true)
    }
}
