import NIOCore
import NIOHTTP1
import NIOWebSocket
import Vapor

/// Vapor's `Upgrader` for `/api/v1/ws`: replaces the HTTP pipeline with NIOWebSocket's frame codec,
/// ``MessageAssembler`` and a ``SessionHandler``, instead of websocket-kit's handler, which validates no UTF-8
/// and costs a `WebSocket` object per socket.
struct SessionUpgrader: Upgrader {
    let principal: Principal
    let authFailure: HeraldError?
    let since: Int64?
    let handshake: (clientAddress: String?, userAgent: String?)
    let maxMessageBytes: Int
    let sendBufferBytes: Int
    let services: RealtimeServices
    let registry: SocketRegistry

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        Self.upgrader(maxMessageBytes: maxMessageBytes, sendBufferBytes: sendBufferBytes) { channel in
            guard let shard = registry.shard(for: channel.eventLoop) else {
                throw HeraldError.unavailable("no registry for this event loop")
            }
            return SessionHandler(
                principal: principal, authFailure: authFailure, since: since, handshake: handshake,
                services: services, registry: registry, shard: shard)
        }
    }

    /// The upgrade every Herald socket goes through: NIOWebSocket's codec, the send-buffer bound and
    /// ``MessageAssembler`` (sizes, fragments, UTF-8, control frames), then the handler `top` makes. The
    /// conformance echo uses it too, so Autobahn tests exactly this stack.
    static func upgrader(
        maxMessageBytes: Int, sendBufferBytes: Int,
        top: @escaping @Sendable (any Channel) throws -> any ChannelHandler
    ) -> NIOWebSocketServerUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: maxMessageBytes, automaticErrorHandling: true,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture([:]) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    let handler = try top(channel)
                    try channel.syncOptions?.setOption(
                        ChannelOptions.writeBufferWaterMark,
                        value: .init(low: sendBufferBytes / 2, high: sendBufferBytes))
                    let handlers = channel.pipeline.syncOperations
                    try handlers.addHandler(MessageAssembler(maxMessageBytes: maxMessageBytes))
                    try handlers.addHandler(handler)
                }
            })
    }
}
