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
    let maxMessageBytes: Int
    let sendBufferBytes: Int
    let services: RealtimeServices
    let registry: SocketRegistry

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: maxMessageBytes, automaticErrorHandling: true,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture([:]) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    guard let shard = registry.shard(for: channel.eventLoop) else {
                        throw HeraldError.unavailable("no registry for this event loop")
                    }
                    try Self.installFrameLayer(
                        on: channel, maxMessageBytes: maxMessageBytes, sendBufferBytes: sendBufferBytes)
                    try channel.pipeline.syncOperations.addHandler(
                        SessionHandler(
                            principal: principal, authFailure: authFailure, since: since, services: services,
                            registry: registry, shard: shard))
                }
            })
    }

    /// What every Herald socket runs below its session: the send-buffer bound and ``MessageAssembler`` (sizes,
    /// fragments, UTF-8, control frames). The conformance echo installs exactly this too.
    static func installFrameLayer(on channel: any Channel, maxMessageBytes: Int, sendBufferBytes: Int) throws {
        try channel.syncOptions?.setOption(
            ChannelOptions.writeBufferWaterMark, value: .init(low: sendBufferBytes / 2, high: sendBufferBytes))
        try channel.pipeline.syncOperations.addHandler(MessageAssembler(maxMessageBytes: maxMessageBytes))
    }
}
