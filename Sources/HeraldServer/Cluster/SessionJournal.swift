import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Records this instance's sockets in PostgreSQL in batches, and carries out what the cluster-wide connection
/// limit decides (``ClusterStore/record(opened:closed:recheck:as:limit:policy:)``).
///
/// A socket is admitted at once against this instance's own count (``ConnectionLimiter``) and gets its
/// `connection` frame; its row is written with the next batch, a few milliseconds later, and that is when the
/// cluster's count decides: with `evict_oldest` the user's oldest socket anywhere is closed with 4409, with
/// `reject` the newest with 4429. A thousand connects are a handful of statements, not a thousand.
///
/// While PostgreSQL is down, sockets are admitted up to the per-instance limit and the batch waits, retried with
/// backoff; once it is written the cluster's limit applies again and any excess is closed.
///
/// It is a service: its loop writes the batches, woken by the changes, and on a graceful shutdown makes one last
/// bounded attempt at what is left.
final class SessionJournal: Service, Sendable {
    /// Sockets written per statement at most.
    static let batch = 1000

    private let store: ClusterStore
    private let node: ClusterNode
    private let limit: Int
    private let policy: HeraldConfiguration.LimitPolicy
    private let registry: SocketRegistry
    private let metrics: HeraldMetrics
    private let logger: Logger
    private let state = NIOLockedValueBox(SessionJournalState())
    private let doorbell = Doorbell()

    init(
        store: ClusterStore, node: ClusterNode, limit: Int, policy: HeraldConfiguration.LimitPolicy,
        registry: SocketRegistry, metrics: HeraldMetrics, logger: Logger
    ) {
        self.store = store
        self.node = node
        self.limit = limit
        self.policy = policy
        self.registry = registry
        self.metrics = metrics
        self.logger = logger
    }

    /// Records a socket, or records it again with new locations (``ClusterStore`` writes the latest).
    func opened(_ session: ClusterStore.Opened) {
        startFlush(if: state.withLockedValue { $0.opened(session) })
    }

    /// Forgets a socket.
    func closed(_ sessionID: UUID) {
        startFlush(if: state.withLockedValue { $0.closed(sessionID) })
    }

    /// Writes every socket of this instance again and decides the limit again for their users: after the lease
    /// lapsed and came back, when the other instances did not count these sockets and, a minute on, forgot them.
    func resync(_ sockets: [ClusterStore.Opened]) {
        startFlush(if: state.withLockedValue { $0.resync(sockets) })
    }

    private func startFlush(if needed: Bool) {
        if needed { doorbell.ring() }
    }

    /// How long a flush lets changes gather before each batch after its first: a lone connect is written at once,
    /// a storm of them in a few dozen statements a second rather than one per socket.
    static let gather: Duration = .milliseconds(10)

    func run() async {
        await withGracefulShutdownHandler {
            for await _ in doorbell.wakeUps { await flush(retrying: true) }
        } onGracefulShutdown: {
            self.doorbell.close()
        }
        await flush(retrying: false)
    }

    /// Writes batches until nothing is pending. A failed batch is put back and, while `retrying` and the service
    /// is not stopping, retried with backoff.
    private func flush(retrying: Bool) async {
        var backoff = Duration.milliseconds(100)
        var first = true
        while true {
            if !first { try? await Task.sleep(for: Self.gather) }
            first = false
            guard let batch = state.withLockedValue({ $0.nextBatch(limit: Self.batch) }) else { return }
            do {
                let over = try await record(batch)
                close(over.filter { $0.incarnation == node.incarnation })
                backoff = .milliseconds(100)
            } catch {
                logger.warning(
                    "could not record sockets; admitting up to the per-instance limit until the database answers",
                    metadata: ["error": "\(DatabaseFailure.description(of: error))", "opened": "\(batch.opened.count)"])
                state.withLockedValue { $0.failed(batch) }
                guard retrying, !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }

    /// One batch, given up after ``recordDeadline`` (the pool would wait for PostgreSQL forever). A batch given up
    /// on may still commit; writing it again is harmless, since rows are keyed and decisions are taken afresh.
    private func record(_ batch: SessionJournalState.Batch) async throws -> [ClusterStore.Placement] {
        let (store, incarnation, limit, policy) = (store, node.incarnation, limit, policy)
        let result = await Timebox.value(within: Self.recordDeadline) {
            () -> Result<[ClusterStore.Placement], any Error> in
            do {
                return .success(
                    try await store.record(
                        opened: batch.opened, closed: batch.closed, recheck: Array(batch.recheck), as: incarnation,
                        limit: limit, policy: policy))
            } catch {
                return .failure(error)
            }
        }
        guard let result else { throw InstanceLease.DatabaseTimeoutError() }
        return try result.get()
    }

    static let recordDeadline: Duration = .seconds(5)

    /// Closes this instance's sockets the limit decided against.
    private func close(_ placements: [ClusterStore.Placement]) {
        guard !placements.isEmpty else { return }
        let reason: HeraldError =
            policy == .evictOldest
            ? .replaced("replaced by a newer session") : .tooManyRequests("connection limit reached")
        metrics.evicted(policy == .evictOldest ? "replaced" : "limit", count: placements.count)
        for placement in placements { registry.close(localID: placement.localID, with: reason) }
    }
}
