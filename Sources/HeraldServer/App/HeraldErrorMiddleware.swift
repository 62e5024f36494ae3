import PostgresNIO
import Vapor

/// Turns every error into `{"detail": ...}` with the right status. The one place where failures become HTTP:
/// ``HeraldError`` maps itself; Vapor's own aborts (unknown route, body too large) keep their status; a lost
/// database is 503 so callers retry; anything else is logged and answered 500 without internals.
public struct HeraldErrorMiddleware: AsyncMiddleware {
    let metrics: HeraldMetrics

    init(metrics: HeraldMetrics) {
        self.metrics = metrics
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
                request.logger.warning("database unavailable", metadata: ["error": "\(error)"])
            }
            var headers = HTTPHeaders([("content-type", "application/json")])
            if mapped.status == .unauthorized { headers.add(name: .wwwAuthenticate, value: "Bearer") }
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
        case let error as PSQLError where Self.isConnectionFailure(error):
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
        switch error {
        case let error as PSQLError: return isConnectionFailure(error)
        case let error as HeraldError:
            if case .unavailable = error { return true }
            return false
        default: return false
        }
    }

    /// A failure to reach or keep PostgreSQL, as opposed to an error in a statement.
    static func isConnectionFailure(_ error: PSQLError) -> Bool {
        guard let state = error.serverInfo?[.sqlState] else { return true }
        return state.hasPrefix("08") || state == "57P01" || state == "57P02" || state == "57P03"
    }
}
