import Dispatch
import NIOCore

/// The event loops the pool opens its connections on, handed out in turn.
///
/// postgres-nio opens each connection on its group's `any()`, which NIO's group answers with the calling thread's
/// own loop. The pool opens connections from its own task, which runs on one loop, so every connection landed
/// there, and with them all of every query's result handling: the protocol decoding, an inbox page's JSON, the
/// continuations. Under a list-page load that loop saturated a core while the other loop had only the HTTP work
/// (`perf`: 99 % of the page writing on one of two loops, 11 % of the machine idle, at 32 connections). Which
/// loop it was, and whether a connection opened later went elsewhere, changed from run to run, and so did the
/// throughput. Round robin spreads the connections, and the work, over every loop.
final class ConnectionLoops: EventLoopGroup {
    private let group: any EventLoopGroup

    init(_ group: any EventLoopGroup) {
        self.group = group
    }

    func next() -> any EventLoop { group.next() }

    /// The next loop in turn, never the caller's: this group exists to spread.
    func any() -> any EventLoop { group.next() }

    func makeIterator() -> EventLoopIterator { group.makeIterator() }

    func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable ((any Error)?) -> Void) {
        group.shutdownGracefully(queue: queue, callback)
    }
}
