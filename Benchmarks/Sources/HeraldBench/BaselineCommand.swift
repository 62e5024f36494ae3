import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The floor Herald is measured against: a bare swift-nio WebSocket broadcast server with Herald's paths and
/// frame shape, and nothing else. No tokens, no database, no per-user state. `POST /api/v1/notifications`
/// broadcasts one notification frame to every socket and answers `{"ids":[n]}`.
struct BaselineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "baseline-server", abstract: "Run the bare swift-nio broadcast server.")

    @Option var port = 8100

    func run() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let loops = Array(group.makeIterator())
        let registry = BaselineRegistry(loops: loops)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let upgrader = NIOWebSocketServerUpgrader(
                    shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture([:]) },
                    upgradePipelineHandler: { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(BaselineSocket(registry: registry))
                        }
                    })
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try channel.pipeline.syncOperations.addHandler(BaselinePublish(registry: registry))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        Output.line("baseline listening on \(port) (pid \(getpid()))")
        try await channel.closeFuture.get()
    }
}

/// Per-loop socket lists; a publish hops once to each loop.
final class BaselineRegistry: Sendable {
    let shards: [NIOLoopBoundBox<BaselineShard>]
    private let nextID = NIOLockedValueBox<Int64>(0)

    init(loops: [any EventLoop]) {
        shards = loops.map { NIOLoopBoundBox.makeBoxSendingValue(BaselineShard(), eventLoop: $0) }
    }

    func shard(for loop: any EventLoop) -> BaselineShard? {
        shards.first { $0.eventLoop === loop }?.value
    }

    func publish() -> Int64 {
        let id = nextID.withLockedValue { value -> Int64 in
            value += 1
            return value
        }
        let text =
            #"{"type":"notification","notification_type":"system","id":\#(id),"data":{"id":\#(id),"type":"system","#
            + #""priority":"medium","title":"baseline","message":"benchmark","data":{},"is_read":false},"#
            + #""timestamp":"2026-01-01T00:00:00.000Z"}"#
        let frame = ByteBuffer(string: text)
        for shard in shards {
            shard.eventLoop.execute { shard.value.broadcast(frame) }
        }
        return id
    }
}

/// The sockets of one loop.
final class BaselineShard {
    var sockets: [ObjectIdentifier: ChannelHandlerContext] = [:]

    func broadcast(_ frame: ByteBuffer) {
        for context in sockets.values {
            context.writeAndFlush(NIOAny(WebSocketFrame(fin: true, opcode: .text, data: frame)), promise: nil)
        }
    }
}

/// A baseline socket: registered while open, pings answered by NIO's automatic error handling is not needed.
final class BaselineSocket: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    let registry: BaselineRegistry

    init(registry: BaselineRegistry) {
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        registry.shard(for: context.eventLoop)?.sockets[ObjectIdentifier(self)] = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        registry.shard(for: context.eventLoop)?.sockets[ObjectIdentifier(self)] = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if unwrapInboundIn(data).opcode == .connectionClose { context.close(promise: nil) }
    }
}

/// `POST /api/v1/notifications`: broadcast and answer 201.
final class BaselinePublish: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let registry: BaselineRegistry
    private var isPublish = false

    init(registry: BaselineRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            isPublish = head.method == .POST && head.uri.hasPrefix("/api/v1/notifications")
        case .body:
            break
        case .end:
            let status: HTTPResponseStatus = isPublish ? .created : .notFound
            let body = isPublish ? #"{"ids":[\#(registry.publish())]}"# : #"{"detail":"Not Found"}"#
            var head = HTTPResponseHead(version: .http1_1, status: status)
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
