import Foundation
import NIOConcurrencyHelpers
import NIOCore

/// All sockets of this instance: one ``LoopRegistry`` per event loop. A delivery is handed to each loop once,
/// and each loop fans it out to its own sockets; no socket is touched from another thread.
final class SocketRegistry: Sendable {
    let limiter: ConnectionLimiter
    private let shards: [NIOLoopBoundBox<LoopRegistry>]
    private let shardByLoop: [ObjectIdentifier: Int]
    private let draining = NIOLockedValueBox(false)

    private let metrics: HeraldMetrics

    init(eventLoops: [any EventLoop], inbox: InboxStore, limiter: ConnectionLimiter, metrics: HeraldMetrics) {
        self.limiter = limiter
        self.metrics = metrics
        var shards: [NIOLoopBoundBox<LoopRegistry>] = []
        var byLoop: [ObjectIdentifier: Int] = [:]
        for (index, loop) in eventLoops.enumerated() {
            let registry = LoopRegistry(
                eventLoop: loop, index: index, stride: eventLoops.count, inbox: inbox, metrics: metrics)
            shards.append(NIOLoopBoundBox.makeBoxSendingValue(registry, eventLoop: loop))
            byLoop[ObjectIdentifier(loop)] = index
        }
        self.shards = shards
        self.shardByLoop = byLoop
    }

    /// The shard of `loop`; call on that loop.
    func shard(for loop: any EventLoop) -> LoopRegistry? {
        shardByLoop[ObjectIdentifier(loop)].map { shards[$0].value }
    }

    /// A loop to complete cross-shard futures on.
    var anyEventLoop: any EventLoop { shards[0].eventLoop }

    var isDraining: Bool { draining.withLockedValue { $0 } }

    /// Runs `body` on every shard's loop and collects the results.
    private func onEveryShard<T: Sendable>(_ body: @escaping @Sendable (LoopRegistry) -> T) -> [EventLoopFuture<T>] {
        shards.map { box in box.eventLoop.submit { body(box.value) } }
    }

    func deliver(_ batch: [(LiveNotification, EncodedFrame)]) {
        for box in shards { box.eventLoop.execute { box.value.deliver(batch) } }
    }

    func deliver(_ change: InboxChange) {
        for box in shards { box.eventLoop.execute { box.value.deliver(change) } }
    }

    /// Delivers an event here; the future holds how many sockets took it.
    func deliver(_ event: EphemeralEvent, on loop: any EventLoop) -> EventLoopFuture<Int> {
        let frame = EncodedFrame(text: ServerFrame.event(type: event.eventType, dataJSON: event.dataJSON))
        return EventLoopFuture.reduce(0, onEveryShard { $0.deliver(event, frame: frame) }, on: loop, +)
    }

    /// Those of `audiences` that at least one socket of this instance belongs to (one hop per loop).
    func audiencesWithSockets(_ audiences: Set<String>) async -> Set<String> {
        guard !audiences.isEmpty else { return [] }
        let found = onEveryShard { shard in audiences.filter { shard.hasSockets(for: $0) } }
        var union = Set<String>()
        for future in found { union.formUnion((try? await future.get()) ?? audiences) }
        return union
    }

    /// Closes one socket, wherever it lives (connection-limit eviction).
    func close(_ entry: ConnectionLimiter.Entry, with reason: HeraldError) {
        let box = shards[entry.shard]
        box.eventLoop.execute { box.value.session(entry.sessionID)?.close(reason) }
    }

    /// Closes the socket this instance knows as `localID` (its ``SessionHandler/id``), if it is still open.
    func close(localID: UInt64, with reason: HeraldError) {
        close(ConnectionLimiter.Entry(sessionID: localID, shard: Int(localID % UInt64(shards.count))), with: reason)
    }

    /// Carries out a close order for the sockets of this instance (`incarnation`) it names; returns how many it
    /// closed.
    @discardableResult
    func close(_ order: SocketCloseOrder, here incarnation: UUID) async -> Int {
        let reason = HeraldError.closing(code: order.code, reason: order.reason)
        switch order.target {
        case .sockets(let owner, let localIDs):
            guard owner == incarnation else { return 0 }
            for id in localIDs { close(localID: id, with: reason) }
            return localIDs.count
        case .user(let user):
            let closed = onEveryShard { $0.closeUser(user, with: reason, where: order.covers(issuedAt:)) }
            var count = 0
            for future in closed { count += (try? await future.get()) ?? 0 }
            return count
        }
    }

    /// The cluster rows of every socket here.
    func records() async -> [ClusterStore.Opened] {
        var records: [ClusterStore.Opened] = []
        for future in onEveryShard({ $0.records() }) { records += (try? await future.get()) ?? [] }
        return records
    }

    func startHeartbeats(interval: Double) {
        for box in shards { box.eventLoop.execute { box.value.startHeartbeat(interval: interval) } }
    }

    func resetAll(_ detail: String) {
        for box in shards { box.eventLoop.execute { box.value.resetAll(detail) } }
    }

    func refreshCounts() {
        for box in shards { box.eventLoop.execute { box.value.refreshCounts() } }
    }

    /// Stops admitting sockets and closes every open one with 1001; completes when none is left open, or after
    /// `timeout`.
    func drain(timeout: TimeAmount, on loop: any EventLoop) async {
        draining.withLockedValue { $0 = true }
        for box in shards {
            box.eventLoop.execute {
                box.value.stopHeartbeat()
                box.value.closeAll(.goingAway("server is shutting down"))
            }
        }
        let deadline = NIODeadline.now() + timeout
        while NIODeadline.now() < deadline {
            if (try? await snapshot(on: loop).get().connections) == 0 { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Collects every loop's counts into the metrics, and sets the connections gauge, before a scrape.
    func flushMetrics(on loop: any EventLoop) async {
        let metrics = metrics
        let total = try? await EventLoopFuture.reduce(0, onEveryShard { $0.flushMetrics() }, on: loop, +).get()
        metrics.setConnections(total ?? 0)
    }

    func snapshot(on loop: any EventLoop) -> EventLoopFuture<RegistrySnapshot> {
        EventLoopFuture.reduce(into: RegistrySnapshot(), onEveryShard { $0.snapshot() }, on: loop) { $0.merge($1) }
    }
}
