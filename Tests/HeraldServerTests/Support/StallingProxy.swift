import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy to PostgreSQL that can go silent the way a broken network does: the connections it stalls stay
/// open, but no byte crosses them any more in either direction, and nothing is closed. It can also cut every
/// connection, and refuse new ones (close them at once) for a while.
final class StallingProxy: Sendable {
    let port: Int
    private let server: any Channel
    private let shared: Shared

    /// What every connection's handlers consult.
    final class Shared: Sendable {
        let refusing = NIOLockedValueBox(false)
        let links = NIOLockedValueBox([Link]())
    }

    /// One proxied connection: whether the client sent `LISTEN` on it, or the publish lock of a group commit
    /// (`pg_advisory_xact_lock`, in the statement it prepares), whether it is stalled, and the local port of its
    /// connection to PostgreSQL (the `client_port` PostgreSQL sees).
    final class Link: Sendable {
        let carriedListen = NIOLockedValueBox(false)
        let carriedCommits = NIOLockedValueBox(false)
        let stalled = NIOLockedValueBox(false)
        let upstreamPort = NIOLockedValueBox<Int?>(nil)
        let channels = NIOLockedValueBox<[any Channel]>([])
    }

    private init(port: Int, server: any Channel, shared: Shared) {
        self.port = port
        self.server = server
        self.shared = shared
    }

    static func start(upstreamPort: Int) async throws -> StallingProxy {
        let shared = Shared()
        let group = MultiThreadedEventLoopGroup.singleton
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                if shared.refusing.withLockedValue({ $0 }) { return inbound.close() }
                let link = Link()
                shared.links.withLockedValue { $0.append(link) }
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: upstreamPort)
                    .flatMap { outbound in
                        link.upstreamPort.withLockedValue { $0 = outbound.localAddress?.port }
                        link.channels.withLockedValue { $0 = [inbound, outbound] }
                        let (toServer, toClient) = Relay.pair(link: link)
                        return inbound.pipeline.addHandler(toServer).flatMap {
                            outbound.pipeline.addHandler(toClient)
                        }.map {
                            inbound.setOption(.autoRead, value: true).whenComplete { _ in }
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return StallingProxy(port: server.localAddress!.port!, server: server, shared: shared)
    }

    /// `database`'s URL with its port pointed at this proxy, for a server whose PostgreSQL connections go through it.
    func url(database: String) throws -> String {
        var url = URLComponents(string: try TestCluster.url(database: database))!
        url.port = port
        return url.string!
    }

    /// Stops every byte on the connections that carried a LISTEN, leaving them open.
    func stallListeners() {
        for link in shared.links.withLockedValue({ $0 }) where link.carriedListen.withLockedValue({ $0 }) {
            link.stalled.withLockedValue { $0 = true }
        }
    }

    /// Stops every byte on the connections that prepared the group commit's statement, leaving them open.
    func stallCommits() {
        for link in shared.links.withLockedValue({ $0 }) where link.carriedCommits.withLockedValue({ $0 }) {
            link.stalled.withLockedValue { $0 = true }
        }
    }

    /// The PostgreSQL-side ports of the proxied connections that never carried a LISTEN: the pool's.
    var poolPorts: [Int] {
        shared.links.withLockedValue { $0 }.filter { !$0.carriedListen.withLockedValue { $0 } }
            .compactMap { $0.upstreamPort.withLockedValue { $0 } }
    }

    /// Closes every connection, both ways, as a restart of PostgreSQL or a reset network does.
    func cutAll() {
        for link in shared.links.withLockedValue({ $0 }) {
            for channel in link.channels.withLockedValue({ $0 }) { channel.close(promise: nil) }
        }
    }

    /// Closes new connections at once while `refusing`.
    func refuseNew(_ refusing: Bool) {
        shared.refusing.withLockedValue { $0 = refusing }
    }

    func close() async {
        try? await server.close()
    }

    /// Copies bytes from its channel to its partner's, unless the link is stalled.
    final class Relay: ChannelDuplexHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        private let link: Link
        private let fromClient: Bool
        private var partner: Relay?
        private var context: ChannelHandlerContext?

        private init(link: Link, fromClient: Bool) {
            self.link = link
            self.fromClient = fromClient
        }

        static func pair(link: Link) -> (Relay, Relay) {
            let client = Relay(link: link, fromClient: true)
            let server = Relay(link: link, fromClient: false)
            client.partner = server
            server.partner = client
            return (client, server)
        }

        func handlerAdded(context: ChannelHandlerContext) {
            self.context = context
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            if fromClient, bytes.readableBytesView.contains("LISTEN") {
                link.carriedListen.withLockedValue { $0 = true }
            }
            if fromClient, bytes.readableBytesView.contains("pg_advisory_xact_lock") {
                link.carriedCommits.withLockedValue { $0 = true }
            }
            guard !link.stalled.withLockedValue({ $0 }), let partner, let target = partner.context else { return }
            target.eventLoop.execute { target.writeAndFlush(NIOAny(bytes), promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if !link.stalled.withLockedValue({ $0 }), let target = partner?.context {
                target.eventLoop.execute { target.close(promise: nil) }
            }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

extension ByteBufferView {
    fileprivate func contains(_ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard count >= needle.count else { return false }
        let bytes = Array(self)
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<$0 + needle.count].elementsEqual(needle) }
    }
}
