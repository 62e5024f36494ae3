import Crypto
import Foundation
import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The HTTP → WebSocket switch (RFC 6455 §4.2) for every Herald socket: checks the key and version, answers
/// `Sec-WebSocket-Accept`, then builds the socket's pipeline: ``WireFrameEncoder``, NIOWebSocket's frame decoder,
/// the frame layer (``MessageAssembler``) and the handler `top` makes. The send buffer gets its bound here, so a
/// socket whose peer stops reading is noticed (``SessionHandler``). ``SocketHandshakeHandler`` carries the switch
/// out.
///
/// With `WS_COMPRESSION` on, a client that offers `permessage-deflate` gets it without context takeover
/// (`agreement`, negotiated once from the request's offers by ``init(offers:maxMessageBytes:sendBufferBytes:deflate:top:)``),
/// and its encoder and frame layer share their loop's ``DeflateCodec``. The conformance echo goes through the same
/// switch, so Autobahn tests exactly this stack.
///
/// Herald's own encoder keeps pre-encoded frames on a typed path through every handler (``WireFrame``).
struct SocketProtocolUpgrader: Sendable {
    static let magicGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    let maxMessageBytes: Int
    let sendBufferBytes: Int
    /// The loops' codecs and what this handshake agreed to; `nil` when it compresses nothing.
    let deflate: (codecs: DeflateCodecs, agreement: DeflateAgreement)?
    let top: @Sendable (any Channel) throws -> any ChannelHandler

    /// The switch for a handshake whose `Sec-WebSocket-Extensions` were `offers`, with the handler `top` makes on
    /// top; `codecs` is `nil` when `WS_COMPRESSION=false`.
    init(
        offers: [String], maxMessageBytes: Int, sendBufferBytes: Int, deflate codecs: DeflateCodecs?,
        top: @escaping @Sendable (any Channel) throws -> any ChannelHandler
    ) {
        self.maxMessageBytes = maxMessageBytes
        self.sendBufferBytes = sendBufferBytes
        self.deflate = codecs.flatMap { codecs in DeflateNegotiation.accept(offers).map { (codecs, $0) } }
        self.top = top
    }

    /// The 101's headers for `request`, or the refusal of a handshake without one key and version 13. Checked
    /// before anything else about a handshake, as the cheapest of its checks.
    static func acceptHeaders(for request: HTTPRequestHead) throws -> HTTPHeaders {
        let keys = request.headers["Sec-WebSocket-Key"]
        let versions = request.headers["Sec-WebSocket-Version"]
        guard keys.count == 1, let key = keys.first, !key.isEmpty, versions == ["13"] else {
            throw HeraldError.badRequest(
                "a WebSocket handshake needs one Sec-WebSocket-Key and Sec-WebSocket-Version: 13")
        }
        return HTTPHeaders([
            ("upgrade", "websocket"), ("connection", "upgrade"), ("sec-websocket-accept", accept(key: key)),
        ])
    }

    /// `headers` with this socket's compression agreement, if it has one.
    func responseHeaders(_ headers: HTTPHeaders) -> HTTPHeaders {
        guard let deflate else { return headers }
        var headers = headers
        headers.add(name: "Sec-WebSocket-Extensions", value: deflate.agreement.responseHeader)
        return headers
    }

    /// Adds the socket's handlers to `channel`, whose HTTP handlers have left.
    func install(on channel: any Channel) throws {
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

    /// `Sec-WebSocket-Accept`: the base64 of the SHA-1 of the key and the protocol's GUID.
    static func accept(key: String) -> String {
        Data(Insecure.SHA1.hash(data: Data((key + magicGUID).utf8))).base64EncodedString()
    }
}
