import Logging

/// Deletes expired notifications in the background, a batch at a time, so that the expired rows an unread count
/// must still subtract one by one stay few. Expired notifications are invisible already; deleting them is
/// housekeeping, so a failure (the database restarting) is logged and retried on the next round.
public struct ExpirySweeper: Sendable {
    private let store: InboxStore
    private let interval: Duration
    private let logger: Logger

    public init(store: InboxStore, interval: Duration = .seconds(5), logger: Logger) {
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    /// Sweeps every `interval` until cancelled; a full batch is followed at once by the next.
    public func run() async {
        while !Task.isCancelled {
            do {
                var swept = 0
                var batch = InboxStore.sweepBatch
                while batch == InboxStore.sweepBatch, !Task.isCancelled {
                    batch = try await store.sweepExpired()
                    swept += batch
                }
                if swept > 0 { logger.debug("swept expired notifications", metadata: ["count": "\(swept)"]) }
            } catch {
                logger.debug("expiry sweep failed; next round retries", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
