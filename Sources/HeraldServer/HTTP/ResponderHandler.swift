import NIOCore
import NIOHTTP1
import Vapor

/// Hands each HTTP/1 request to the ``DirectRoutes`` that takes it, or else to ``HeraldResponder`` (Vapor's router
/// and middleware, Herald's routes), and writes the response back: the part of Vapor's own HTTP pipeline that
/// Herald uses, kept once ``HeraldHTTPServer`` took the pipeline over so that socket handshakes never enter
/// Vapor's (``SocketHandshakeHandler``).
///
/// Every body is collected before the request is answered, as every Herald route wants it whole. The limit is
/// enforced here, where the bytes arrive: a `Content-Length` over it is refused from the head alone, a chunked body
/// as soon as it passes it, with 413 and the connection closed (the rest of the body is never read).
///
/// `HTTPServerPipelineHandler` sits in front, so one request at a time reaches this handler: the next one's head
/// comes only after this one's response has ended.
final class ResponderHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case collecting(HTTPRequestHead, ByteBuffer?)
        /// Refused for its size: the rest of the request is dropped while the connection closes.
        case discarding
    }

    private let application: Application
    private let responder: HeraldResponder
    private let direct: DirectRoutes?
    private let maxBodyBytes: Int
    private let writer: ResponseWriter
    private var state = State.idle

    init(
        application: Application, responder: HeraldResponder, direct: DirectRoutes?, maxBodyBytes: Int,
        writer: ResponseWriter
    ) {
        self.application = application
        self.responder = responder
        self.direct = direct
        self.maxBodyBytes = maxBodyBytes
        self.writer = writer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), .idle):
            if let length = head.headers.first(name: .contentLength).flatMap(Int.init), length > maxBodyBytes {
                refuseSize(context: context, head: head)
            } else {
                state = .collecting(head, nil)
            }
        case (.body(var chunk), .collecting(let head, var body)):
            guard (body?.readableBytes ?? 0) + chunk.readableBytes <= maxBodyBytes else {
                return refuseSize(context: context, head: head)
            }
            state = .discarding  // lets go of the buffer while it grows, so appending does not copy it
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
            state = .collecting(head, body)
        case (.end, .collecting(let head, let body)):
            state = .idle
            respond(to: head, body: body, context: context)
        case (_, .discarding):
            break
        case (.head, .collecting), (.body, .idle), (.end, .idle):
            // The HTTP decoder never produces these orders; close rather than guess.
            context.close(promise: nil)
        }
    }

    private func refuseSize(context: ChannelHandlerContext, head: HTTPRequestHead) {
        state = .discarding
        let limit = maxBodyBytes
        let error = HeraldError.payloadTooLarge("request body larger than \(limit) bytes")
        write(HeraldErrorMiddleware.response(to: error), for: head, keepAlive: false, context: context)
    }

    private func respond(to head: HTTPRequestHead, body: ByteBuffer?, context: ChannelHandlerContext) {
        // The request's id is chosen once, here, and checked: Vapor's `Request` takes the header as its `id` and
        // its logger's `request-id` unchecked, and draws a UUID of its own without it.
        let requestID = RequestLogMiddleware.requestID(head.headers)
        if let direct {
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let taken = direct.respond(
                to: head, body: body, requestID: requestID, peer: context.channel.remoteAddress,
                eventLoop: context.eventLoop
            ) { response in
                let (handler, context) = bound.value
                handler.writer.write(
                    status: response.status, headers: response.headers, body: response.body, method: head.method,
                    keepAlive: head.isKeepAlive, context: context)
            }
            if taken { return }
        }
        var headers = head.headers
        headers.replaceOrAdd(name: RequestLogMiddleware.header, value: requestID)
        // `URI(path:)`, not `URI(string:)`: a request target has no scheme, so `//x/y` is a path, not a host.
        let request = Request(
            application: application, method: head.method, url: URI(path: head.uri), version: head.version,
            headersNoUpdate: headers, collectedBody: body, remoteAddress: context.channel.remoteAddress,
            logger: application.logger, byteBufferAllocator: context.channel.allocator, on: context.eventLoop)
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        responder.respond(to: request, target: head.uri).hop(to: context.eventLoop).whenComplete { result in
            let (handler, context) = bound.value
            let response: Response
            switch result {
            case .success(let answer):
                response = answer
            case .failure(let error):
                // HeraldErrorMiddleware answers every error a route throws; this is what it could not catch.
                request.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
                response = HeraldErrorMiddleware.response(to: error)
            }
            handler.write(response, for: head, keepAlive: head.isKeepAlive, context: context)
        }
    }

    /// Writes `response` through ``ResponseWriter``, or a 500 in its place for a streamed body.
    private func write(_ response: Response, for head: HTTPRequestHead, keepAlive: Bool, context: ChannelHandlerContext)
    {
        var response = response
        var keepAlive = keepAlive
        var body = response.body.buffer
        if body == nil, response.body.count != 0 {
            // A streamed body: no Herald route answers with one, and this handler does not write them.
            application.logger.error(
                "a route answered with a streamed body, which is not served", metadata: ["path": "\(head.uri)"])
            response = HeraldErrorMiddleware.response(to: Abort(.internalServerError))
            body = response.body.buffer
            keepAlive = false
        }
        writer.write(response, body: body, method: head.method, keepAlive: keepAlive, context: context)
    }
}
