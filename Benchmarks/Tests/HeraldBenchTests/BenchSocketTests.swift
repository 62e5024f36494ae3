import Crypto
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import HeraldBench

/// The load client must see every frame the server sends, or the soak reports losses that are the client's own.
@Suite struct BenchSocketTests {
    /// A server that answers the upgrade with its 101 and a notification in one write, as a busy server does when
    /// a resume's replay is ready before the client reads: the notification arrives in the same read as the 101.
    @Test func framesInTheSameReadAsThe101AreReceived() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UpgradeAndSendServer())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let loop = group.next()
        let received = NIOLockedValueBox<[Int64]>([])
        let closed = loop.makePromise(of: UInt16.self)
        let timeout = loop.scheduleTask(in: .seconds(10)) { closed.fail(ChannelError.connectTimeout(.seconds(10))) }
        let client = try await BenchSocket.connect(
            loop: loop, host: "127.0.0.1", port: server.localAddress!.port!, source: nil, path: "/api/v1/ws"
        ) { _ in
            BenchSocket.Receiver(
                record: { id in received.withLockedValue { $0.append(id) } },
                closed: { closed.succeed($0) }, reset: {})
        }.get()

        let code = try? await closed.futureResult.get()
        timeout.cancel()
        #expect(code == 1000)
        #expect(received.withLockedValue { $0 } == [42])
        try? await client.close().get()
        try await server.close().get()
        try await group.shutdownGracefully()
    }
}

/// Reads an upgrade request, then writes the 101, a notification and a close frame in one buffer.
private final class UpgradeAndSendServer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private var request = ""

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        request += buffer.readString(length: buffer.readableBytes) ?? ""
        guard request.contains("\r\n\r\n") else { return }
        let keyLine = request.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-key:") }
        let key = keyLine.map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) } ?? ""
        let digest = Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8))
        var out = context.channel.allocator.buffer(capacity: 256)
        out.writeString(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n"
                + "Sec-WebSocket-Accept: \(Data(digest).base64EncodedString())\r\n\r\n")
        let text = Array(#"{"type":"notification","id":42,"notification":{"id":42,"title":"t"}}"#.utf8)
        out.writeBytes([0x81, UInt8(text.count)] + text)
        out.writeBytes([0x88, 0x02, 0x03, 0xE8])
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }
}
