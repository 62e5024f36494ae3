import PostgresNIO

/// What a PostgreSQL error means for the request or loop that met it, and how to describe it to an operator.
///
/// postgres-nio's own `description` is a fixed text that hides everything ("Generic description to prevent
/// accidental leakage"), and its `debugDescription` includes the failed query with its bound values.
/// ``description(of:)`` gives the server's code, message, detail and hint, or the connection problem, and nothing
/// bound; log lines still pass through ``LogRedactor``.
public enum DatabaseFailure: Equatable, Sendable {
    /// PostgreSQL cannot be reached or dropped the connection: fail fast until it answers again.
    case unreachable
    /// The statement ran past `statement_timeout` and was cancelled: its transaction changed nothing.
    case timedOut
    /// A lock could not be had within `lock_timeout`, or a concurrent change won (deadlock, serialization): nothing
    /// changed, and the same request may well succeed a moment later.
    case busy
    /// Anything else: a bug or a broken schema.
    case other

    /// The kind of `error` if it came from PostgreSQL (looking inside a transaction's error), `nil` if not.
    init?(_ error: any Error) {
        guard let error = Self.psqlError(in: error) else { return nil }
        guard let state = error.serverInfo?[.sqlState] else {
            // No server answer at all: the connection could not be made, or was lost.
            self = .unreachable
            return
        }
        switch state {
        case _ where state.hasPrefix("08"), "57P01", "57P02", "57P03", "53300": self = .unreachable
        case "57014": self = .timedOut
        case "55P03", "40001", "40P01", "25P03": self = .busy
        default: self = .other
        }
    }

    /// The `PSQLError` behind `error`. A transaction reports the error of the statement that failed, or of BEGIN,
    /// COMMIT or ROLLBACK, inside its own.
    static func psqlError(in error: any Error) -> PSQLError? {
        switch error {
        case let error as PSQLError:
            return error
        case let error as PostgresTransactionError:
            for inner in [error.closureError, error.beginError, error.commitError, error.rollbackError] {
                if let inner, let found = psqlError(in: inner) { return found }
            }
            return nil
        default:
            return nil
        }
    }

    /// What an operator needs to see of `error`: the server's SQLSTATE, message, detail and hint, or the client-side
    /// problem and its cause (a refused connection, a failed TLS handshake), without the statement's bound values.
    public static func description(of error: any Error) -> String {
        guard let psql = psqlError(in: error) else { return String(describing: error) }
        var parts: [String] = []
        if let info = psql.serverInfo {
            if let state = info[.sqlState] { parts.append("SQLSTATE \(state)") }
            if let message = info[.message] { parts.append(message) }
            if let detail = info[.detail] { parts.append("detail: \(detail)") }
            if let hint = info[.hint] { parts.append("hint: \(hint)") }
            if let context = info[.locationContext] { parts.append("context: \(context)") }
        } else {
            parts.append("\(psql.code)")
            if let underlying = psql.underlying { parts.append(String(describing: underlying)) }
        }
        return parts.joined(separator: "; ")
    }
}
