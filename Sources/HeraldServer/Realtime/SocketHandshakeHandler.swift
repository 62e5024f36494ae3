import NIOCore
import NIOHTTP1

/// Answers WebSocket handshakes on the HTTP pipeline itself, ahead of Vapor (``HeraldHTTPServer``): a request for
/// one of ``SocketEndpoints``' paths never becomes a Vapor `Request`. Every other request passes through untouched.
///
/// A handshake is decided once its request has ended, cheapest check first: the key and version (400), then the
/// endpoint (its ``HeraldError`` answered as REST answers it: 503 while draining, 429, and so on), and a refused
/// handshake's connection is closed after its answer. Accepted, the
/// connection switches as swift-nio's `HTTPServerUpgradeHandler` switches one: the HTTP handlers that read
/// (`httpHandlers`) leave first, the 101 goes out through `encoder`, the encoder leaves, the socket's handlers
/// come in, and this handler leaves last, handing on whatever bytes followed the handshake.
///
/// Unlike swift-nio's upgrade handler, it answers a handshake at any request of a kept-alive connection, not only
/// the first, as Vapor did.
final class SocketHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests, or passing a request that is not a handshake on to Vapor.
        case passing
        /// A handshake's head has come; its end has not.
        case handshake(HTTPRequestHead, SocketEndpoints.Accept, started: NIODeadline)
        /// Switching: everything that arrives now is the socket's, held until this handler leaves.
        case switching
    }

    private let endpoints: SocketEndpoints
    private let encoder: HTTPResponseEncoder
    private let httpHandlers: [any RemovableChannelHandler]
    private var state = State.passing
    private let writer: ResponseWriter
    private var held: [NIOAny] = []

    init(
        endpoints: SocketEndpoints, encoder: HTTPResponseEncoder, httpHandlers: [any RemovableChannelHandler],
        writer: ResponseWriter
    ) {
        self.endpoints = endpoints
        self.encoder = encoder
        self.httpHandlers = httpHandlers
        self.writer = writer
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Once switching, the request decoder is leaving and hands on raw bytes: nothing may be unwrapped as HTTP.
        if case .switching = state { return held.append(data) }
        let part = unwrapInboundIn(data)
        switch (part, state) {
        case (.head(let head), .passing):
            if let accept = endpoints.endpoint(for: head) {
                state = .handshake(head, accept, started: .now())
            } else {
                context.fireChannelRead(data)
            }
        case (.end, .handshake(let head, let accept, let started)):
            state = .passing
            answer(head, accept: accept, started: started, context: context)
        case (.body, .handshake):
            break  // a handshake has no body; one sent anyway is not read
        case (_, .passing), (.head, .handshake):
            context.fireChannelRead(data)
        case (_, .switching):
            break  // returned above
        }
    }

    func removeHandler(context: ChannelHandlerContext, removalToken: ChannelHandlerContext.RemovalToken) {
        let held = held
        self.held = []
        for data in held { context.fireChannelRead(data) }
        if !held.isEmpty { context.fireChannelReadComplete() }
        context.leavePipeline(removalToken: removalToken)
    }

    private func answer(
        _ head: HTTPRequestHead, accept: SocketEndpoints.Accept, started: NIODeadline, context: ChannelHandlerContext
    ) {
        let handshake = SocketHandshake(head: head, peer: context.channel.remoteAddress)
        let upgrader: SocketProtocolUpgrader
        let headers: HTTPHeaders
        do {
            headers = try SocketProtocolUpgrader.acceptHeaders(for: head)
            upgrader = try accept(handshake)
        } catch {
            return refuse(handshake, with: error, started: started, context: context)
        }
        log(handshake, status: .switchingProtocols, started: started)
        switchProtocols(headers: upgrader.responseHeaders(headers), upgrader: upgrader, context: context)
    }

    /// Answers a refused handshake, counted and logged, and closes: the request decoder stops at a request that
    /// asks for an upgrade and reads nothing after it, so the connection cannot serve another request.
    private func refuse(
        _ handshake: SocketHandshake, with error: any Error, started: NIODeadline, context: ChannelHandlerContext
    ) {
        let response = HeraldErrorMiddleware.response(to: error)
        endpoints.metrics.handshakeRefused(status: response.status.code)
        log(handshake, status: response.status, started: started)
        writer.write(response, body: response.body.buffer, method: .GET, keepAlive: false, context: context)
    }

    private func switchProtocols(headers: HTTPHeaders, upgrader: SocketProtocolUpgrader, context: ChannelHandlerContext)
    {
        state = .switching
        let pipeline = context.pipeline.syncOperations
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        // The decoder leaves on its loop's next turn, handing on the bytes it still holds; the 101 waits for it, so
        // nothing more is read as HTTP.
        EventLoopFuture.andAllSucceed(httpHandlers.map { pipeline.removeHandler($0) }, on: loop)
            .flatMap { () -> EventLoopFuture<Void> in
                let (handler, context) = bound.value
                let head = HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers)
                return context.writeAndFlush(handler.wrapOutboundOut(.head(head)))
            }
            .flatMap {
                let (handler, context) = bound.value
                return context.pipeline.syncOperations.removeHandler(handler.encoder)
            }
            .flatMapThrowing {
                let (_, context) = bound.value
                try upgrader.install(on: context.channel)
            }
            .whenComplete { result in
                let (_, context) = bound.value
                switch result {
                case .success:
                    context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
                case .failure:
                    context.close(promise: nil)
                }
            }
    }

    private func log(_ handshake: SocketHandshake, status: HTTPResponseStatus, started: NIODeadline) {
        RequestLogMiddleware.line(
            method: .GET, path: handshake.path, query: handshake.query, status: status,
            seconds: Double((NIODeadline.now() - started).nanoseconds) / 1e9,
            client: endpoints.clients.of(peer: handshake.peer, headers: handshake.headers), logger: endpoints.logger,
            requestID: { RequestLogMiddleware.requestID(handshake.headers) })
    }
}
