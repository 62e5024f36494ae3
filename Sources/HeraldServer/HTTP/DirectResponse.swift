import NIOCore
import NIOHTTP1
import Vapor

/// What a ``DirectRoute`` answers: a status, headers and a whole body, which ``ResponseWriter`` completes.
struct DirectResponse: Sendable {
    var status: HTTPResponseStatus
    var headers: HTTPHeaders
    var body: ByteBuffer
}

extension DirectResponse {
    /// A JSON answer whose body `writer` holds.
    init(json status: HTTPResponseStatus, _ writer: JSONWriter) {
        self.init(status: status, headers: ["content-type": "application/json"], body: writer.buffer)
    }

    /// The same answer from a Vapor `Response` with a collected body (an error's, ``HeraldErrorMiddleware``).
    init(_ response: Response) {
        self.init(status: response.status, headers: response.headers, body: response.body.buffer ?? ByteBuffer())
    }

    /// The same answer as a Vapor `Response`, for the route's Vapor registration.
    var response: Response {
        Response(status: status, headers: headers, body: .init(buffer: body))
    }
}
