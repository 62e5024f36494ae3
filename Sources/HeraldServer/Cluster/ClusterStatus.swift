import Foundation
import NIOConcurrencyHelpers

/// The cluster's totals and live instances for `/api/v1/ws/status`, read from PostgreSQL at most once a second
/// however many probes ask: concurrent askers share one read, and a read younger than a second is answered from
/// memory.
final class ClusterStatus: Sendable {
    struct Snapshot: Sendable {
        var totals: ClusterStore.Totals
        var instances: [ClusterStore.Instance]
        var at: ContinuousClock.Instant
    }

    private let store: ClusterStore
    private let cached = NIOLockedValueBox<(snapshot: Snapshot?, reading: Task<Snapshot?, Never>?)>((nil, nil))

    init(store: ClusterStore) {
        self.store = store
    }

    /// The cluster's status, at most a second old; `nil` when PostgreSQL cannot be read.
    func current() async -> Snapshot? {
        let store = store
        let task = cached.withLockedValue { cached -> Task<Snapshot?, Never>? in
            if let snapshot = cached.snapshot, ContinuousClock.now - snapshot.at < .seconds(1) { return nil }
            if let reading = cached.reading { return reading }
            let reading = Task<Snapshot?, Never> {
                guard let totals = try? await store.totals(), let instances = try? await store.instances() else {
                    return nil
                }
                return Snapshot(totals: totals, instances: instances, at: .now)
            }
            cached.reading = reading
            return reading
        }
        guard let task else { return cached.withLockedValue { $0.snapshot } }
        let snapshot = await task.value
        cached.withLockedValue { cached in
            cached.reading = nil
            if let snapshot { cached.snapshot = snapshot }
        }
        return snapshot
    }
}
