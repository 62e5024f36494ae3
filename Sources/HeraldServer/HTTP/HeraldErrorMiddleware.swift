import PostgresNIO
import Vapor

/// Turns every error into `{"detail": ...}` with the right status. The one place where failures become HTTP:
/// ``HeraldError`` maps itself; Vapor's own aborts (unknown route, body too large) keep their status; a database
/// error is mapped by what it means (``DatabaseFailure``), so a lost database, a cancelled statement and a lock
/// that could not be had are 503s a caller retries, each saying which; anything else is logged and answered 500
/// without internals.
///
/// It works on futures, not `async`, as every middleware every request passes does (``RequestLogMiddleware``).
public struct HeraldErrorMiddleware: Middleware {
    let metrics: HeraldMetrics
    let gate: DatabaseGate

    init(metrics: HeraldMetrics, gate: DatabaseGate) {
        self.metrics = metrics
        self.gate = gate
    }

    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in response(to: error, logger: request.logger) }
    }

    /// The response for a route's `error`, logged on `logger` (the request's) as its kind deserves, a database
    /// failure counted and reported to the gate: for Vapor's routes and the ones answered ahead of it
    /// (``DirectRoutes``) alike.
    func response(to error: any Error, logger: Logger) -> Response {
        let mapped = Self.map(error)
        if let failure = DatabaseFailure(error) {
            metrics.databaseError("rest")
            let detail = DatabaseFailure.description(of: error)
            switch failure {
            case .unreachable:
                // The gate logs the outage once; each refused request is only worth a debug line.
                logger.debug("database unavailable", metadata: ["error": "\(detail)"])
                gate.reportFailure()
            case .timedOut, .busy:
                logger.warning("database statement gave up", metadata: ["error": "\(detail)"])
            case .other:
                logger.error("database statement failed", metadata: ["error": "\(detail)"])
            }
        } else if mapped.status == .internalServerError {
            logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
        }
        return Self.response(to: error, mapped: mapped)
    }

    /// The response for `error`, as every route's failure is answered: also for the failures that happen before
    /// a route is reached (a body over the limit, a refused socket handshake), which nothing logs here.
    static func response(to error: any Error) -> Response {
        response(to: error, mapped: map(error))
    }

    private static func response(
        to error: any Error, mapped: (status: HTTPResponseStatus, body: JSONWriter)
    ) -> Response {
        var headers = HTTPHeaders([("content-type", "application/json")])
        if mapped.status == .unauthorized { headers.add(name: .wwwAuthenticate, value: "Bearer") }
        if mapped.status == .serviceUnavailable { headers.add(name: .retryAfter, value: "1") }
        if case HeraldError.methodNotAllowed(let methods) = error {
            headers.add(name: .allow, value: methods.joined(separator: ", "))
        }
        return Response(status: mapped.status, headers: headers, body: .init(buffer: mapped.body.buffer))
    }

    /// The status and body for `error`.
    public static func map(_ error: any Error) -> (status: HTTPResponseStatus, body: JSONWriter) {
        if let heraldError = error as? HeraldError { return (heraldError.status, heraldError.body) }
        if let failure = DatabaseFailure(error), let mapped = heraldError(for: failure) {
            return (mapped.status, mapped.body)
        }
        if let error = error as? any AbortError, error.status != .internalServerError {
            let text = error.status == .notFound ? "Not Found" : error.reason
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("detail")
            writer.string(text)
            writer.endObject()
            return (error.status, writer)
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("detail")
        writer.string("Internal Server Error")
        writer.endObject()
        return (.internalServerError, writer)
    }

    /// What a client is told of a database failure; `nil` for one that is Herald's fault (500).
    static func heraldError(for failure: DatabaseFailure) -> HeraldError? {
        switch failure {
        case .unreachable: DatabaseGate.closed
        case .timedOut: .timedOut("Request timed out; nothing was changed")
        case .busy: .busy("Busy with a concurrent change; nothing was changed, try again")
        case .other: nil
        }
    }
}
