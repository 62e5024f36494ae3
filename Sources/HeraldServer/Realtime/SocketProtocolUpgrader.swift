import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The HTTP → WebSocket switch (RFC 6455 §4.2) for every Herald socket: checks the key and version, answers
/// `Sec-WebSocket-Accept`, then builds the socket's pipeline: ``WireFrameEncoder``, NIOWebSocket's frame decoder,
/// the frame layer (``MessageAssembler``) and the handler `top` makes. The send buffer gets its bound here, so a
/// socket whose peer stops reading is noticed (``SessionHandler``).
///
/// With `WS_COMPRESSION` on, a client that offers `permessage-deflate` gets it without context takeover
/// (`agreement`, negotiated once from the request by ``SessionUpgrader/upgrader(request:maxMessageBytes:sendBufferBytes:deflate:top:)``),
/// and its encoder and frame layer share their loop's ``DeflateCodec``.
///
/// It is NIOWebSocket's server upgrader with Herald's own encoder, which keeps pre-encoded frames on a typed path
/// through every handler (``WireFrame``).
struct SocketProtocolUpgrader: HTTPServerProtocolUpgrader, Sendable {
    static let magicGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    let maxMessageBytes: Int
    let sendBufferBytes: Int
    /// The loops' codecs and what this handshake agreed to; `nil` when it compresses nothing.
    let deflate: (codecs: DeflateCodecs, agreement: DeflateAgreement)?
    let top: @Sendable (any Channel) throws -> any ChannelHandler

    var supportedProtocol: String { "websocket" }
    var requiredUpgradeHeaders: [String] { ["sec-websocket-key", "sec-websocket-version"] }

    func buildUpgradeResponse(
        channel: any Channel, upgradeRequest: HTTPRequestHead, initialResponseHeaders: HTTPHeaders
    ) -> EventLoopFuture<HTTPHeaders> {
        let keys = upgradeRequest.headers["Sec-WebSocket-Key"]
        let versions = upgradeRequest.headers["Sec-WebSocket-Version"]
        guard keys.count == 1, let key = keys.first, versions == ["13"] else {
            return channel.eventLoop.makeFailedFuture(NIOWebSocketUpgradeError.invalidUpgradeHeader)
        }
        var headers = initialResponseHeaders
        headers.replaceOrAdd(name: "Upgrade", value: "websocket")
        headers.add(name: "Sec-WebSocket-Accept", value: Self.accept(key: key))
        headers.replaceOrAdd(name: "Connection", value: "upgrade")
        if let deflate {
            headers.add(name: "Sec-WebSocket-Extensions", value: deflate.agreement.responseHeader)
        }
        return channel.eventLoop.makeSucceededFuture(headers)
    }

    func upgrade(context: ChannelHandlerContext, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<Void> {
        let channel = context.channel
        return channel.eventLoop.makeCompletedFuture {
            let handler = try top(channel)
            try channel.syncOptions?.setOption(
                ChannelOptions.writeBufferWaterMark, value: .init(low: sendBufferBytes / 2, high: sendBufferBytes))
            let codec = deflate?.codecs.codec(for: channel.eventLoop)
            let handlers = channel.pipeline.syncOperations
            try handlers.addHandler(
                WireFrameEncoder(deflate: codec, windowBits: deflate?.agreement.serverWindowBits ?? 15))
            try handlers.addHandler(ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxMessageBytes)))
            try handlers.addHandler(MessageAssembler(maxMessageBytes: maxMessageBytes, inflater: codec))
            try handlers.addHandler(handler)
        }
    }

    /// `Sec-WebSocket-Accept`: the base64 of the SHA-1 of the key and the protocol's GUID.
    static func accept(key: String) -> String {
        Data(Insecure.SHA1.hash(data: Data((key + magicGUID).utf8))).base64EncodedString()
    }
}
