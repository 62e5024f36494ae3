import Foundation
import Logging
import ServiceLifecycle

/// Keeps this instance's lease in PostgreSQL (`INSTANCE_LEASE`): renewed every third of it with the instance's
/// counts, so an instance that dies stops counting, with every socket it held, once its lease runs out. It also
/// forgets instances dead for a minute, and, when its own lease comes back after the database was unreachable,
/// writes its sockets again (the others may have forgotten them) and has the limit decided again for their users.
/// On a graceful shutdown it gives the lease back, after the sockets have drained.
struct InstanceLease: Service {
    private let store: ClusterStore
    private let node: ClusterNode
    private let lease: Double
    private let registry: SocketRegistry
    private let listener: NotifyListener
    private let journal: SessionJournal
    private let logger: Logger

    init(
        store: ClusterStore, node: ClusterNode, lease: Double, registry: SocketRegistry, listener: NotifyListener,
        journal: SessionJournal, logger: Logger
    ) {
        self.store = store
        self.node = node
        self.lease = lease
        self.registry = registry
        self.listener = listener
        self.journal = journal
        self.logger = logger
    }

    /// Takes or renews the lease, giving up after a third of it (the pool would wait for PostgreSQL forever);
    /// returns whether it had lapsed (``ClusterStore/renew(_:instanceID:version:startedAt:lease:connections:listening:)``).
    func renew() async throws -> Bool {
        let connections = try await registry.snapshot(on: registry.anyEventLoop).get().connections
        let (store, node, lease, listening) = (store, node, lease, listener.isListening)
        let renewed = await Timebox.value(within: .milliseconds(Int64(lease * 1000 / 3))) {
            () -> Result<Bool, any Error> in
            do {
                return .success(
                    try await store.renew(
                        node.incarnation, instanceID: node.instanceID, version: node.version,
                        startedAt: node.startedAt, lease: lease, connections: connections, listening: listening))
            } catch {
                return .failure(error)
            }
        }
        guard let renewed else { throw DatabaseTimeoutError() }
        return try renewed.get()
    }

    /// The lease could not be renewed in time.
    struct DatabaseTimeoutError: Error, CustomStringConvertible {
        var description: String { "PostgreSQL did not answer in time" }
    }

    /// Holds the lease until a graceful shutdown, then gives it back.
    func run() async {
        await cancelWhenGracefulShutdown { await self.hold() }
        await leave()
    }

    /// Takes the lease at once, then renews it every third of it until cancelled. When a renewal finds the lease
    /// had lapsed, this instance's sockets are written again and their users' limit decided again.
    private func hold() async {
        var rounds = 0
        var held = false
        while !Task.isCancelled {
            if rounds > 0 { try? await Task.sleep(for: .milliseconds(Int64(lease * 1000 / 3))) }
            rounds += 1
            guard !Task.isCancelled else { return }
            do {
                let lapsed = try await renew()
                if lapsed, held {
                    logger.warning("the instance lease had lapsed; recording this instance's sockets again")
                    journal.resync(await registry.records())
                }
                held = true
                if rounds % 10 == 0 {
                    let store = store
                    _ = await Timebox.value(within: .seconds(5)) { try? await store.sweepDeadInstances() }
                }
            } catch {
                logger.warning(
                    "could not renew the instance lease",
                    metadata: ["error": "\(DatabaseFailure.description(of: error))"])
            }
        }
    }

    /// Gives the lease back and forgets this instance's sockets (a clean shutdown), so no one waits for it to run
    /// out; without the database, the lease runs out instead.
    private func leave() async {
        let (store, incarnation) = (store, node.incarnation)
        _ = await Timebox.value(within: .seconds(2)) { try? await store.leave(incarnation) }
    }
}
