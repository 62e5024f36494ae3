import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import HeraldServer

/// The listening channel's cap: connections past it are closed before anything reads them, and each one that
/// closes makes room for another.
@Suite("Connection cap")
struct ConnectionCapHandlerTests {
    /// An accepted connection, as the listening channel hands it on: open and connected.
    private func connection() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return channel
    }

    @Test("past the cap a connection is closed at accept; a closed one frees its place")
    func cap() throws {
        let listener = EmbeddedChannel(handler: ConnectionCapHandler(cap: 2, logger: Logger(label: "test")))
        let accepted = try (0..<3).map { _ in try connection() }
        for connection in accepted { try listener.writeInbound(connection as any Channel) }

        // The first two go on to the accept handler; the third is closed and goes nowhere.
        #expect(try listener.readInbound(as: (any Channel).self) === accepted[0])
        #expect(try listener.readInbound(as: (any Channel).self) === accepted[1])
        #expect(try listener.readInbound(as: (any Channel).self) == nil)
        #expect(accepted[0].isActive && accepted[1].isActive)
        #expect(!accepted[2].isActive)

        // One of the two closes: the next connection takes its place, and the one after is refused again.
        try accepted[0].close().wait()
        accepted[0].embeddedEventLoop.run()
        let later = try (0..<2).map { _ in try connection() }
        for connection in later { try listener.writeInbound(connection as any Channel) }
        #expect(try listener.readInbound(as: (any Channel).self) === later[0])
        #expect(try listener.readInbound(as: (any Channel).self) == nil)
        #expect(!later[1].isActive)
        _ = try listener.finish()
    }
}
