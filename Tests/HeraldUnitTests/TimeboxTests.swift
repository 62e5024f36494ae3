import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@testable import HeraldServer

/// ``Timebox`` answers by its limit whether or not the operation ever does, both where `herald` runs its tasks (on
/// NIO's event loops, where the timer is the loop's) and elsewhere (a sleeping task).
@Suite("Time box")
struct TimeboxTests {
    /// Runs the jobs of the tasks that prefer it on one event loop, as `herald`'s executor does for every task.
    final class LoopExecutor: TaskExecutor {
        let loop: any EventLoop

        init(_ loop: any EventLoop) {
            self.loop = loop
        }

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        }
    }

    static func answers(onLoop: Bool) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let executor: (any TaskExecutor)? = onLoop ? LoopExecutor(group.next()) : nil
        // Held, not dropped, so the operation stays unfinished until the answer is in, and is then let go.
        let stuck = NIOLockedValueBox<CheckedContinuation<Void, Never>?>(nil)
        let (quick, never, onTheLoop) = await withTaskExecutorPreference(executor) {
            () async -> (Int?, Int?, Bool) in
            let onTheLoop = MultiThreadedEventLoopGroup.currentEventLoop != nil
            let quick = await Timebox.value(within: .seconds(30)) { 7 }
            let clock = ContinuousClock()
            let started = clock.now
            // An operation that never finishes, as a query on a connection whose peer went silent.
            let never = await Timebox.value(within: .milliseconds(100)) { () async -> Int in
                await withCheckedContinuation { continuation in stuck.withLockedValue { $0 = continuation } }
                return 1
            }
            stuck.withLockedValue { $0 }?.resume()
            #expect(clock.now - started < .seconds(10))
            return (quick, never, onTheLoop)
        }
        try await group.shutdownGracefully()
        #expect(onTheLoop == onLoop)
        #expect(quick == 7)
        #expect(never == nil)
    }

    @Test("on an event loop: the value within the limit, nil past it", .timeLimit(.minutes(1)))
    func onEventLoop() async throws {
        try await Self.answers(onLoop: true)
    }

    @Test("off the event loops: the value within the limit, nil past it", .timeLimit(.minutes(1)))
    func offEventLoop() async throws {
        try await Self.answers(onLoop: false)
    }
}
