import NIOHTTP1
import NIOWebSocket

/// Every failure a client can cause or see. It is mapped to an HTTP status and a WebSocket close code here and
/// nowhere else, so REST and the socket tell a client the same thing for the same problem.
public enum HeraldError: Error, Sendable, Equatable {
    /// Missing, malformed, expired or wrongly signed token. The reason never contains the token.
    case unauthorized(String)
    /// Authenticated, but the role may not do this (the publish rules).
    case forbidden(String)
    /// Absent, or not visible to the caller: the two are deliberately indistinguishable.
    case notFound(String)
    /// Input that parsed but broke a rule; rendered in FastAPI's 422 shape.
    case validation([ValidationIssue])
    /// Input that could not be read at all, such as a body that is not JSON.
    case badRequest(String)
    case payloadTooLarge(String)
    case tooManyRequests(String)
    /// PostgreSQL is unreachable: fail fast so publishers retry, never hang.
    case unavailable(String)
    /// The request ran out of time (`REQUEST_TIMEOUT`). The text says whether it changed anything.
    case timedOut(String)
    /// A lock could not be had in time, or a concurrent change won: nothing changed; try again shortly.
    case busy(String)
    /// This instance is at a capacity limit (its socket cap): try again, or another instance.
    case overloaded(String)
    /// A newer session of the same user took this socket's place (`evict_oldest`).
    case replaced(String)
    /// An operator closed this socket through the sessions API: the client must not come back on its own.
    case disconnected(String)
    /// This instance is draining or the peer stopped answering: reconnect, elsewhere if need be.
    case goingAway(String)
    /// Floods, a send buffer past its bound, and other abuse of the socket.
    case policyViolation(String)
    /// A text message that is not UTF-8.
    case invalidPayload(String)
    /// The path exists, but not for this method; carries the methods it does allow (the `Allow` header).
    case methodNotAllowed([String])

    public var status: HTTPResponseStatus {
        switch self {
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .validation: return .unprocessableEntity
        case .badRequest: return .badRequest
        case .payloadTooLarge: return .payloadTooLarge
        case .tooManyRequests: return .tooManyRequests
        case .unavailable, .timedOut, .busy, .goingAway, .overloaded: return .serviceUnavailable
        case .replaced: return .conflict
        case .disconnected: return .gone
        case .policyViolation: return .tooManyRequests
        case .invalidPayload: return .badRequest
        case .methodNotAllowed: return .methodNotAllowed
        }
    }

    /// The close code (docs/protocol.md) for failures that end a socket.
    public var closeCode: WebSocketErrorCode {
        switch self {
        case .unauthorized: return .init(codeNumber: 4401)
        case .forbidden: return .init(codeNumber: 4403)
        case .tooManyRequests: return .init(codeNumber: 4429)
        case .payloadTooLarge: return .messageTooLarge
        case .unavailable, .timedOut: return .unexpectedServerError
        case .overloaded, .busy: return .init(codeNumber: 1013)
        case .notFound, .validation, .badRequest, .policyViolation, .methodNotAllowed: return .policyViolation
        case .replaced: return .init(codeNumber: 4409)
        case .disconnected: return .init(codeNumber: 4410)
        case .goingAway: return .goingAway
        case .invalidPayload: return .dataInconsistentWithMessage
        }
    }

    /// The error a socket close order stands for (``SocketCloseOrder``), by its close code.
    static func closing(code: UInt16, reason: String) -> HeraldError {
        switch code {
        case 4401: .unauthorized(reason)
        case 4409: .replaced(reason)
        case 4410: .disconnected(reason)
        case 4429: .tooManyRequests(reason)
        default: .goingAway(reason)
        }
    }

    /// The text of a close frame's reason: short, since control frames carry at most 123 bytes of it.
    public var closeReason: String {
        String(message.utf8.prefix(120)) ?? code
    }

    /// A short machine-readable code, used in WebSocket `error` frames.
    public var code: String {
        switch self {
        case .unauthorized: return "unauthorized"
        case .forbidden: return "forbidden"
        case .notFound: return "not_found"
        case .validation: return "validation_error"
        case .badRequest: return "bad_request"
        case .payloadTooLarge: return "too_large"
        case .tooManyRequests: return "rate_limited"
        case .unavailable: return "unavailable"
        case .timedOut: return "timed_out"
        case .busy: return "busy"
        case .overloaded: return "overloaded"
        case .replaced: return "replaced"
        case .disconnected: return "disconnected"
        case .goingAway: return "going_away"
        case .policyViolation: return "policy_violation"
        case .invalidPayload: return "invalid_payload"
        case .methodNotAllowed: return "method_not_allowed"
        }
    }

    /// The `detail` member of an error body: a string, or FastAPI's list of issues for 422.
    public func writeDetail(to writer: inout JSONWriter) {
        guard case .validation(let issues) = self else { return writer.string(message) }
        writer.beginArray()
        for issue in issues { issue.write(to: &writer) }
        writer.endArray()
    }

    /// The human-readable text: the case's own, or a summary for a list of validation issues.
    public var message: String {
        switch self {
        case .unauthorized(let text), .forbidden(let text), .notFound(let text), .badRequest(let text),
            .payloadTooLarge(let text), .tooManyRequests(let text), .unavailable(let text), .timedOut(let text),
            .busy(let text), .overloaded(let text), .replaced(let text), .disconnected(let text),
            .goingAway(let text), .policyViolation(let text), .invalidPayload(let text):
            return text
        case .validation:
            return "invalid input"
        case .methodNotAllowed:
            return "Method Not Allowed"
        }
    }

    /// `{"detail": ...}`, the body of every REST error.
    public var body: JSONWriter {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("detail")
        writeDetail(to: &writer)
        writer.endObject()
        return writer
    }
}
