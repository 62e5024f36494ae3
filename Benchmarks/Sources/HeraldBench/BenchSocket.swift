import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// One benchmark socket: NIOWebSocket's client upgrader, then a handler that answers pings and counts
/// notifications (``Receiver`` into its loop's ``Tally``, or the soak's own). Ids are read from the frame text
/// without a JSON parser, so the client costs less than the server it measures.
enum BenchSocket {
    /// Connects from `source` to `host:port` on `loop`, upgrades at `path`, puts the handler `receiver` makes
    /// on the socket, and completes once the socket is open.
    static func connect(
        loop: any EventLoop, host: String, port: Int, source: String?, path: String, deflate: Bool = false,
        receiver: @escaping @Sendable (any EventLoop) -> any ChannelHandler
    ) -> EventLoopFuture<any Channel> {
        let upgraded = loop.makePromise(of: Void.self)
        var bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
        if let source, let address = try? SocketAddress(ipAddress: source, port: 0) {
            // IP_BIND_ADDRESS_NO_PORT: pick the port at connect, not at bind, where the kernel would search the
            // whole range for each socket and connects would slow down with every socket open.
            bootstrap = bootstrap.channelOption(
                ChannelOptions.Types.SocketOption(level: .ip, name: .init(rawValue: 24)), value: 1
            ).bind(to: address)
        }
        let connected = bootstrap.channelInitializer { channel in
            let key = Data((0..<16).map { _ in UInt8.random(in: 0...255) }).base64EncodedString()
            let upgrader = NIOWebSocketClientUpgrader(
                requestKey: key, maxFrameSize: 1 << 24, automaticErrorHandling: true
            ) { channel, _ in
                // The request handler expects HTTP parts; frames must not reach it.
                channel.pipeline.removeHandler(name: "upgrade-requester").flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(receiver(channel.eventLoop))
                    upgraded.succeed()
                }
            }
            let config: NIOHTTPClientUpgradeConfiguration = (
                upgraders: [upgrader], completionHandler: { _ in }
            )
            return channel.eventLoop.makeCompletedFuture {
                // `.forwardBytes`: frames the server sent right behind its 101 often arrive in the same read (a
                // replay, under load). NIO's default drops whatever the HTTP decoder holds past the response, which
                // the soak counted as notifications lost on resume.
                try channel.pipeline.syncOperations.addHTTPClientHandlers(
                    leftOverBytesStrategy: .forwardBytes, withClientUpgrade: config)
                try channel.pipeline.syncOperations.addHandler(
                    UpgradeRequester(host: host, path: path, deflate: deflate, failed: upgraded),
                    name: "upgrade-requester")
            }
        }.connect(host: host, port: port)
        return connected.flatMap { channel in
            let timeout = channel.eventLoop.scheduleTask(in: .seconds(30)) {
                upgraded.fail(ChannelError.connectTimeout(.seconds(30)))
            }
            upgraded.futureResult.whenComplete { _ in timeout.cancel() }
            return upgraded.futureResult.map { channel }
        }
    }

    /// Sends the upgrade request once the connection is up.
    private final class UpgradeRequester: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPClientResponsePart
        typealias OutboundOut = HTTPClientRequestPart
        let host: String
        let path: String
        let deflate: Bool
        let failed: EventLoopPromise<Void>

        init(host: String, path: String, deflate: Bool, failed: EventLoopPromise<Void>) {
            self.host = host
            self.path = path
            self.deflate = deflate
            self.failed = failed
        }

        func channelActive(context: ChannelHandlerContext) {
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
            head.headers.add(name: "Host", value: host)
            head.headers.add(name: "Content-Length", value: "0")
            if deflate { head.headers.add(name: "Sec-WebSocket-Extensions", value: "permessage-deflate") }
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            // A response reaching here means the upgrade was refused (429, 503, ...).
            if case .head(let head) = unwrapInboundIn(data) {
                failed.fail(RefusedUpgrade(status: head.status.code))
                context.close(promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            failed.fail(error)
            context.close(promise: nil)
        }
    }

    struct RefusedUpgrade: Error {
        let status: UInt
    }

    /// Counts notifications and answers pings, so the server's heartbeat keeps the socket.
    final class Receiver: ChannelInboundHandler {
        typealias InboundIn = WebSocketFrame
        typealias OutboundOut = WebSocketFrame
        let record: (Int64) -> Void
        /// Inflates messages that arrive compressed (RSV1), if the socket offered to take them.
        let inflater: MessageInflater?
        /// Told the close code when the server closes the socket.
        let closed: (UInt16) -> Void
        /// Told when the server sends `reset`: it could not replay, and a real client would refetch over REST.
        let reset: () -> Void

        init(tally: Tally) {
            self.record = { id in tally.record(id: id, at: Clock.micros()) }
            self.inflater = tally.inflater
            self.closed = { _ in }
            self.reset = {}
        }

        init(
            record: @escaping (Int64) -> Void, closed: @escaping (UInt16) -> Void, reset: @escaping () -> Void
        ) {
            self.record = record
            self.inflater = nil
            self.closed = closed
            self.reset = reset
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let frame = unwrapInboundIn(data)
            switch frame.opcode {
            case .text:
                let text = frame.rsv1 ? inflater?.inflate(frame.data) ?? frame.data : frame.data
                if let id = Self.notificationID(text) {
                    record(id)
                } else if text.readableBytesView.starts(with: Self.resetPrefix) {
                    reset()
                }
            case .ping:
                let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.data)
                context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
            case .connectionClose:
                var data = frame.data
                closed(data.readInteger(as: UInt16.self) ?? 1005)
                context.close(promise: nil)
            default:
                break
            }
        }

        static let resetPrefix = Array(#"{"type":"reset""#.utf8)

        /// The `id` of a `{"type":"notification",...,"id":N,...}` frame.
        static func notificationID(_ buffer: ByteBuffer) -> Int64? {
            buffer.withUnsafeReadableBytes { bytes -> Int64? in
                let marker = Array(#""type":"notification""#.utf8)
                guard bytes.count > 40, bytes.starts(with: [UInt8(ascii: "{")] + marker) else { return nil }
                let key = Array(#","id":"#.utf8)
                var index = marker.count + 1
                while index + key.count < bytes.count {
                    if bytes[index] == key[0], bytes[index..<index + key.count].elementsEqual(key) {
                        var value: Int64 = 0
                        var cursor = index + key.count
                        while cursor < bytes.count, (48...57).contains(bytes[cursor]) {
                            value = value * 10 + Int64(bytes[cursor] - 48)
                            cursor += 1
                        }
                        return value
                    }
                    index += 1
                }
                return nil
            }
        }
    }
}
