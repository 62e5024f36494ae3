import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import Testing

@testable import HeraldServer

/// The listening channel's handler: connections past the cap are closed before anything reads them, each one that
/// closes makes room for another, and a drain asks every open connection to quiesce and ends when the last closes.
@Suite("Connection tracker")
struct ConnectionTrackerTests {
    /// Records whether its connection was asked to quiesce.
    private final class QuiesceRecorder: ChannelInboundHandler {
        typealias InboundIn = Never
        var asked = false

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if event is ChannelShouldQuiesceEvent { asked = true }
            context.fireUserInboundEventTriggered(event)
        }
    }

    /// An accepted connection, as the listening channel hands it on: open and connected.
    private func connection() throws -> (EmbeddedChannel, QuiesceRecorder) {
        let recorder = QuiesceRecorder()
        let channel = EmbeddedChannel(handler: recorder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        return (channel, recorder)
    }

    private func listener(cap: Int) -> (EmbeddedChannel, ConnectionTracker) {
        let tracker = ConnectionTracker(cap: cap, logger: Logger(label: "test"))
        return (EmbeddedChannel(handler: tracker.makeAcceptHandler()), tracker)
    }

    @Test("past the cap a connection is closed at accept; a closed one frees its place")
    func cap() throws {
        let (listener, tracker) = listener(cap: 2)
        let accepted = try (0..<3).map { _ in try connection().0 }
        for connection in accepted { try listener.writeInbound(connection as any Channel) }

        // The first two go on to the accept handler; the third is closed and goes nowhere.
        #expect(try listener.readInbound(as: (any Channel).self) === accepted[0])
        #expect(try listener.readInbound(as: (any Channel).self) === accepted[1])
        #expect(try listener.readInbound(as: (any Channel).self) == nil)
        #expect(accepted[0].isActive && accepted[1].isActive)
        #expect(!accepted[2].isActive)
        #expect(tracker.openCount == 2)

        // One of the two closes: the next connection takes its place, and the one after is refused again.
        try accepted[0].close().wait()
        accepted[0].embeddedEventLoop.run()
        let later = try (0..<2).map { _ in try connection().0 }
        for connection in later { try listener.writeInbound(connection as any Channel) }
        #expect(try listener.readInbound(as: (any Channel).self) === later[0])
        #expect(try listener.readInbound(as: (any Channel).self) == nil)
        #expect(!later[1].isActive)
        _ = try listener.finish()
    }

    @Test("a drain closes the listener, quiesces every open connection and ends when the last one closes")
    func drain() throws {
        let (listener, tracker) = listener(cap: 10)
        let open = try (0..<2).map { _ in try connection() }
        for (connection, _) in open { try listener.writeInbound(connection as any Channel) }

        // The socket the drain closes stands apart from the pipeline, so that this test can still hand the
        // tracker a connection accepted just before the close took effect.
        let socket = EmbeddedChannel()
        let drained = listener.eventLoop.makePromise(of: Void.self)
        let done = NIOLockedValueBox(false)
        drained.futureResult.whenSuccess { done.withLockedValue { $0 = true } }
        var finished: Bool { done.withLockedValue { $0 } }
        tracker.drain(closing: socket, promise: drained)
        for (connection, _) in open { connection.embeddedEventLoop.run() }
        #expect(!socket.isActive)
        #expect(open.allSatisfy { $0.1.asked })
        #expect(!finished)

        // One accepted while the drain runs is asked to quiesce as well, and the drain waits for it. It is asked
        // once it is active, when the handlers that act on the request are there, not while it is still being set
        // up (an event then would find none of them).
        let lateRecorder = QuiesceRecorder()
        let late = EmbeddedChannel(handler: lateRecorder)
        try listener.writeInbound(late as any Channel)
        late.embeddedEventLoop.run()
        #expect(!lateRecorder.asked)
        try late.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
        #expect(lateRecorder.asked)

        for (connection, _) in open {
            try connection.close().wait()
            connection.embeddedEventLoop.run()
        }
        listener.embeddedEventLoop.run()
        #expect(!finished)
        try late.close().wait()
        late.embeddedEventLoop.run()
        listener.embeddedEventLoop.run()
        #expect(finished)

        // Once drained, a connection is closed at accept.
        let (after, _) = try connection()
        try listener.writeInbound(after as any Channel)
        #expect(!after.isActive)
    }

    @Test("a drain with nothing open is over at once, and a second drain learns of the first's end")
    func emptyDrain() throws {
        let (listener, tracker) = listener(cap: 10)
        let first = listener.eventLoop.makePromise(of: Void.self)
        let second = listener.eventLoop.makePromise(of: Void.self)
        tracker.drain(closing: listener, promise: first)
        tracker.drain(closing: listener, promise: second)
        listener.embeddedEventLoop.run()
        try first.futureResult.wait()
        try second.futureResult.wait()
    }
}
