import Logging
import ServiceLifecycle

/// Deletes in the background, a batch at a time, what no client can see any more (``SweepStore``): expired
/// notifications, so the expired rows a count must still subtract one by one stay few, the personal rows users
/// cleared, and idempotency keys past their window. It is housekeeping, so a failure (the database restarting) is
/// logged and retried on the next round, and a graceful shutdown stops it wherever it is.
public struct InboxSweeper: Service {
    private let store: SweepStore
    private let interval: Duration
    private let logger: Logger

    public init(store: SweepStore, interval: Duration = .seconds(5), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func run() async {
        await cancelWhenGracefulShutdown { await self.sweep() }
    }

    /// Sweeps every `interval` until cancelled; a full batch is followed at once by the next.
    private func sweep() async {
        while !Task.isCancelled {
            do {
                var swept = 0
                var batch = SweepStore.batch
                while batch == SweepStore.batch, !Task.isCancelled {
                    batch = try await store.sweepExpired()
                    swept += batch
                }
                for cleared in try await store.clearedAudiences() where !Task.isCancelled {
                    while try await store.purge(cleared) == SweepStore.batch, !Task.isCancelled {}
                }
                while try await store.sweepIdempotencyKeys() == SweepStore.batch, !Task.isCancelled {}
                try await store.sweepStoredMessages()
                if swept > 0 { logger.debug("swept expired notifications", metadata: ["count": "\(swept)"]) }
            } catch {
                logger.warning(
                    "sweep failed; the next round retries",
                    metadata: ["error": "\(DatabaseFailure.description(of: error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
