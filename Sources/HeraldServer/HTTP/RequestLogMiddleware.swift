import Logging
import Vapor

/// Writes every request's access-log line and puts its id back on the response. The id is the caller's
/// `X-Request-Id` when it looks like one (so a trace crosses nginx and backend services), otherwise a new one
/// (``requestID(_:)``, chosen by ``ResponderHandler``); it is on the request's logger, so every line logged for
/// the request carries it. The client address is
/// ``ClientAddress``'s. Query strings are logged through
/// ``LogRedactor`` like everything else, so `?token=` never reaches the log.
///
/// Like every middleware every request passes, it works on futures, not `async`: an `AsyncMiddleware` costs each
/// request a task of its own and the hops to it and back.
struct RequestLogMiddleware: Middleware {
    static let header = HTTPHeaders.Name("X-Request-Id")

    let clients: ClientAddress

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let started = ContinuousClock.now
        // ``ResponderHandler`` chose the id (``requestID(_:)``) and put it in the request's header, from which
        // Vapor made it the request's `id` and its logger's `request-id`.
        let id = request.id
        return next.respond(to: request).map { response in
            response.headers.replaceOrAdd(name: Self.header, value: id)
            log(request, response, since: started)
            return response
        }
    }

    private func log(_ request: Request, _ response: Response, since started: ContinuousClock.Instant) {
        // Always asked, so a forwarded header from an untrusted peer is warned about whatever the log level.
        let client = clients.of(request)
        // Above info (warning, say) no access line is written: return before reading the path, which Vapor
        // percent-decodes anew on every read and which cost more than the rest of this.
        guard request.logger.logLevel <= .info else { return }
        let elapsed = ContinuousClock.now - started
        Self.line(
            method: request.method, path: request.url.path[...], query: request.url.query.map { $0[...] },
            status: response.status,
            seconds: Double(elapsed.components.seconds)
                + Double(elapsed.components.attoseconds) / 1e18,
            client: client, logger: request.logger)
    }

    /// The access-log line of one request, also written for the socket handshakes that never reach Vapor
    /// (``SocketHandshakeHandler``). Health checks and scrapes are logged at debug.
    ///
    /// The line's metadata (a formatted duration above all) costs more than the request's routing: it is built
    /// only for a line that will be written.
    static func line(
        method: HTTPMethod, path: Substring, query: Substring?, status: HTTPResponseStatus, seconds: Double,
        client: @autoclosure () -> String?, logger: Logger, requestID: (() -> String)? = nil
    ) {
        let quiet = path.hasSuffix("/health/live") || path.hasSuffix("/health/ready") || path.hasSuffix("/metrics")
        let level: Logger.Level = quiet ? .debug : .info
        guard logger.logLevel <= level else { return }
        var metadata: Logger.Metadata = [
            "method": .string(method.rawValue), "path": .string(String(path)),
            "status": .stringConvertible(status.code),
            "duration_ms": .string(String(format: "%.2f", seconds * 1000)),
            "client": .string(client() ?? "-"),
        ]
        if let query { metadata["query"] = .string(String(query)) }
        if let requestID { metadata["request-id"] = .string(requestID()) }
        logger.log(level: level, "request", metadata: metadata)
    }

    /// The caller's id if it is 1 to 128 characters of letters, digits, `-`, `_`, `.` or `:`; otherwise a new one.
    /// Vapor copies the header into its logger unchecked, so a request's header is replaced with this before Vapor
    /// sees it.
    static func requestID(_ headers: HTTPHeaders) -> String {
        if let given = headers.first(name: header), (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || [UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":")].contains(byte)
            })
        {
            return given
        }
        return UUID.random().lowercasedString
    }
}
