import Vapor

/// Refuses database-bound requests at once while ``DatabaseGate`` is closed.
struct DatabaseGateMiddleware: AsyncMiddleware {
    let gate: DatabaseGate

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard gate.isOpen else { throw HeraldError.unavailable("Database unavailable") }
        return try await next.respond(to: request)
    }
}
