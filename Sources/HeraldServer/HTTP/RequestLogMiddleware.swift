import Logging
import Vapor

/// Gives every request an id and one access-log line. The id is the caller's `X-Request-Id` when it looks like
/// one (so a trace crosses nginx and backend services), otherwise a new one; it goes on the request's logger,
/// so every line logged for the request carries it, and back on the response. The client address is
/// ``ClientAddress``'s. Query strings are logged through
/// ``LogRedactor`` like everything else, so `?token=` never reaches the log.
struct RequestLogMiddleware: AsyncMiddleware {
    static let header = HTTPHeaders.Name("X-Request-Id")

    let clients: ClientAddress

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let started = ContinuousClock.now
        let id = Self.requestID(request)
        request.logger[metadataKey: "request-id"] = .string(id)
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: Self.header, value: id)
        let elapsed = ContinuousClock.now - started
        let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let path = request.url.path
        let quiet = path.hasSuffix("/health/live") || path.hasSuffix("/health/ready") || path.hasSuffix("/metrics")
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue), "path": .string(path),
            "status": .stringConvertible(response.status.code),
            "duration_ms": .string(String(format: "%.2f", millis)),
            "client": .string(clients.of(request) ?? "-"),
        ]
        if let query = request.url.query { metadata["query"] = .string(query) }
        request.logger.log(level: quiet ? .debug : .info, "request", metadata: metadata)
        return response
    }

    /// The caller's id if it is 1 to 128 characters of letters, digits, `-`, `_`, `.` or `:`; otherwise a new one
    /// (Vapor copies the header into its logger unchecked, so its value cannot be trusted here).
    static func requestID(_ request: Request) -> String {
        if let given = request.headers.first(name: header), (1...128).contains(given.utf8.count),
            given.utf8.allSatisfy({ byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                    || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                    || [UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":")].contains(byte)
            })
        {
            return given
        }
        return UUID().uuidString.lowercased()
    }
}
