import NIOCore
import NIOHTTP1
import NIOWebSocket
import Vapor

/// Vapor's `Upgrader` for `/api/v1/ws`: replaces the HTTP pipeline with the socket's (``SocketProtocolUpgrader``)
/// and a ``SessionHandler`` on top, instead of websocket-kit's handler, which validates no UTF-8 and costs a
/// `WebSocket` object per socket.
struct SessionUpgrader: Upgrader {
    let principal: Principal
    let authFailure: HeraldError?
    let since: Int64?
    let handshake: (clientAddress: String?, userAgent: String?)
    let maxMessageBytes: Int
    let sendBufferBytes: Int
    let deflate: DeflateCodecs?
    let services: RealtimeServices
    let registry: SocketRegistry

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        Self.upgrader(
            request: req, maxMessageBytes: maxMessageBytes, sendBufferBytes: sendBufferBytes, deflate: deflate
        ) { channel in
            guard let shard = registry.shard(for: channel.eventLoop) else {
                throw HeraldError.unavailable("no registry for this event loop")
            }
            return SessionHandler(
                principal: principal, authFailure: authFailure, since: since, handshake: handshake,
                services: services, registry: registry, shard: shard)
        }
    }

    /// The upgrade every Herald socket goes through, with the handler `top` makes on top. The conformance echo
    /// uses it too, so Autobahn tests exactly this stack. `request`'s compression offers are read here, once, for
    /// both the response and the pipeline.
    static func upgrader(
        request: Request, maxMessageBytes: Int, sendBufferBytes: Int, deflate codecs: DeflateCodecs?,
        top: @escaping @Sendable (any Channel) throws -> any ChannelHandler
    ) -> any HTTPServerProtocolUpgrader {
        let deflate = codecs.flatMap { codecs in
            DeflateNegotiation.accept(request.headers["Sec-WebSocket-Extensions"]).map { (codecs, $0) }
        }
        return SocketProtocolUpgrader(
            maxMessageBytes: maxMessageBytes, sendBufferBytes: sendBufferBytes, deflate: deflate, top: top)
    }
}
