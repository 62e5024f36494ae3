import NIOCore
import NIOHTTP1
import NIOWebSocket
import Vapor

/// The upgrade for `/api/v1/ws/echo`, which exists only with `CONFORMANCE_ECHO=true`: no token, and a
/// ``ConformanceEchoHandler`` where a socket would have its ``SessionHandler``.
struct ConformanceEchoUpgrader: Upgrader {
    let maxMessageBytes: Int
    let sendBufferBytes: Int
    let deflate: DeflateCodecs?

    func applyUpgrade(req: Request, res: Response) -> any HTTPServerProtocolUpgrader {
        SessionUpgrader.upgrader(
            request: req, maxMessageBytes: maxMessageBytes, sendBufferBytes: sendBufferBytes, deflate: deflate
        ) { _ in
            ConformanceEchoHandler()
        }
    }
}
