import Vapor

/// Refuses database-bound requests at once while ``DatabaseGate`` is closed.
struct DatabaseGateMiddleware: Middleware {
    let gate: DatabaseGate

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        guard gate.isOpen else {
            return request.eventLoop.makeFailedFuture(DatabaseGate.closed)
        }
        return next.respond(to: request)
    }
}
