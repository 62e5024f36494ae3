import NIOCore
import NIOPosix
import Testing

@testable import HeraldServer

/// postgres-nio opens each pool connection on its group's `any()`, from a task running on one of the loops.
@Suite("Connection loops")
struct ConnectionLoopsTests {
    @Test("asked from inside a loop, NIO's group answers that loop; the pool's group answers every loop in turn")
    func spreadsFromInsideALoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        let loops = ConnectionLoops(group)
        let caller = group.next()
        let (sticky, spread) = try await caller.submit {
            (
                Set((0..<6).map { _ in ObjectIdentifier(group.any()) }),
                (0..<6).map { _ in ObjectIdentifier(loops.any()) }
            )
        }.get()
        // What the pool was given before: every connection on the caller's loop.
        #expect(sticky == [ObjectIdentifier(caller)])
        #expect(Set(spread).count == 3)
        #expect(Set(spread[0..<3]) == Set(spread[3..<6]))
        try await group.shutdownGracefully()
    }
}
