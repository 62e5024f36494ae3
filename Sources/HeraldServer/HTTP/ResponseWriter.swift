import NIOCore
import NIOHTTP1
import Vapor

/// Writes a Vapor `Response` with a collected body as one head, the body and the end, as Vapor's encoder did:
/// `Date`, `Server`, `Connection` and the length added; none of the body for `HEAD`, 204 and 304; the output
/// closed once written when the connection is not kept alive.
///
/// One per connection, shared by ``ResponderHandler`` (every answer from Vapor's responder) and
/// ``SocketHandshakeHandler`` (a refused handshake), so both answer alike and share one `Date` per second.
final class ResponseWriter {
    private let serverName: String
    private var date = HTTPDate()

    init(serverName: String) {
        self.serverName = serverName
    }

    /// Writes `response` with `body` (the response's own, already taken out of it) for a request of `method`.
    func write(
        _ response: Response, body: ByteBuffer?, method: HTTPMethod, keepAlive: Bool, context: ChannelHandlerContext
    ) {
        write(
            status: response.status, headers: response.headers, body: body, version: response.version,
            method: method, keepAlive: keepAlive, context: context)
    }

    /// Writes a response of `status` with `headers` and `body`, for a request of `method`.
    func write(
        status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?, version: HTTPVersion = .http1_1,
        method: HTTPMethod, keepAlive: Bool, context: ChannelHandlerContext
    ) {
        var headers = headers
        headers.add(name: .date, value: date.value())
        headers.add(name: .server, value: serverName)
        headers.add(name: .connection, value: keepAlive ? "keep-alive" : "close")
        let bodiless = status == .noContent || status == .notModified
        if !bodiless { headers.replaceOrAdd(name: .contentLength, value: String(body?.readableBytes ?? 0)) }
        let head = HTTPResponseHead(version: version, status: status, headers: headers)
        context.write(NIOAny(HTTPServerResponsePart.head(head)), promise: nil)
        if !bodiless, method != .HEAD, let body, body.readableBytes > 0 {
            context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(body))), promise: nil)
        }
        let written = context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)))
        guard !keepAlive else { return }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        written.whenComplete { _ in bound.value.close(mode: .output, promise: nil) }
    }
}
