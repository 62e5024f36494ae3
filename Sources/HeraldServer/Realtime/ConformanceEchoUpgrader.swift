import NIOCore
import NIOHTTP1
import NIOWebSocket
import Vapor

/// The upgrade for `/api/v1/ws/echo`, which exists only with `CONFORMANCE_ECHO=true`: no token, and a
/// ``ConformanceEchoHandler`` where a socket would have its ``SessionHandler``.
struct ConformanceEchoUpgrader: Upgrader {
    let maxMessageBytes: Int
    let sendBufferBytes: Int

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        NIOWebSocketServerUpgrader(
            maxFrameSize: maxMessageBytes, automaticErrorHandling: true,
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture([:]) },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try SessionUpgrader.installFrameLayer(
                        on: channel, maxMessageBytes: maxMessageBytes, sendBufferBytes: sendBufferBytes)
                    try channel.pipeline.syncOperations.addHandler(ConformanceEchoHandler())
                }
            })
    }
}
