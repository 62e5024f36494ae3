import PostgresNIO
import Vapor

/// Turns every error into `{"detail": ...}` with the right status. The one place where failures become HTTP:
/// ``HeraldError`` maps itself; Vapor's own aborts (unknown route, body too large) keep their status; a lost
/// database is 503 so callers retry; anything else is logged and answered 500 without internals.
public struct HeraldErrorMiddleware: AsyncMiddleware {
    let metrics: HeraldMetrics
    let gate: DatabaseGate

    init(metrics: HeraldMetrics, gate: DatabaseGate) {
        self.metrics = metrics
        self.gate = gate
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let mapped = Self.map(error)
            if mapped.status == .internalServerError {
                request.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            if Self.isDatabaseFailure(error) {
                metrics.databaseError("rest")
                // The gate logs the outage once; each refused request is only worth a debug line.
                request.logger.debug("database unavailable", metadata: ["error": "\(error)"])
                if Self.connectionFailure(in: error) != nil { gate.reportFailure() }
            }
            var headers = HTTPHeaders([("content-type", "application/json")])
            if mapped.status == .unauthorized { headers.add(name: .wwwAuthenticate, value: "Bearer") }
            if mapped.status == .serviceUnavailable { headers.add(name: .retryAfter, value: "1") }
            if case HeraldError.methodNotAllowed(let methods) = error {
                headers.add(name: .allow, value: methods.joined(separator: ", "))
            }
            return Response(status: mapped.status, headers: headers, body: .init(buffer: mapped.body.buffer))
        }
    }

    /// The status and body for `error`.
    public static func map(_ error: any Error) -> (status: HTTPResponseStatus, body: JSONWriter) {
        switch error {
        case let error as HeraldError:
            return (error.status, error.body)
        case let error where Self.connectionFailure(in: error) != nil:
            let unavailable = HeraldError.unavailable("Database unavailable")
            return (unavailable.status, unavailable.body)
        case let error as any AbortError where error.status != .internalServerError:
            let text = error.status == .notFound ? "Not Found" : error.reason
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("detail")
            writer.string(text)
            writer.endObject()
            return (error.status, writer)
        default:
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("detail")
            writer.string("Internal Server Error")
            writer.endObject()
            return (.internalServerError, writer)
        }
    }

    /// Whether `error` came from PostgreSQL being unreachable.
    static func isDatabaseFailure(_ error: any Error) -> Bool {
        if connectionFailure(in: error) != nil { return true }
        if case HeraldError.unavailable = error { return true }
        return false
    }

    /// The connection-level `PSQLError` behind `error`, looking inside a transaction's error (a lost connection
    /// can surface at BEGIN, in the body, or at COMMIT).
    static func connectionFailure(in error: any Error) -> PSQLError? {
        switch error {
        case let error as PSQLError:
            return isConnectionFailure(error) ? error : nil
        case let error as PostgresTransactionError:
            for inner in [error.beginError, error.closureError, error.commitError, error.rollbackError] {
                if let inner, let failure = connectionFailure(in: inner) { return failure }
            }
            return nil
        default:
            return nil
        }
    }

    /// A failure to reach or keep PostgreSQL, as opposed to an error in a statement.
    static func isConnectionFailure(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return true }
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }
}
