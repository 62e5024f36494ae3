import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Turns what arrives on the NOTIFY channel into deliveries. It runs on the listener's task, one payload at a
/// time, so notifications reach the registry in commit (and so id) order, including those fetched by id.
final class FanoutDispatcher: Sendable {
    /// A listener gap longer than this many notifications sends `reset` instead of replaying them all.
    static let catchUpLimit = 10_000

    private let registry: SocketRegistry
    private let store: FanoutStore
    private let instanceID: String
    private let logger: Logger
    /// The highest notification id handed to the registry: where a catch-up after a gap starts.
    private let lastID = NIOLockedValueBox<Int64>(0)

    init(registry: SocketRegistry, store: FanoutStore, instanceID: String, logger: Logger) {
        self.registry = registry
        self.store = store
        self.instanceID = instanceID
        self.logger = logger
    }

    func handle(_ payload: String) async {
        guard let message = FanoutMessage(payload: payload) else {
            logger.warning("ignoring a malformed fan-out payload", metadata: ["bytes": "\(payload.utf8.count)"])
            return
        }
        switch message {
        case .notifications(let notifications):
            deliver(notifications)
        case .notificationIDs(let ids):
            do {
                deliver(try await store.notifications(ids: ids))
            } catch {
                logger.error(
                    "could not fetch notifications by id",
                    metadata: ["error": "\(DatabaseFailure.description(of: error))"])
            }
        case .inbox(let change):
            registry.deliver(change)
        case .event(let event):
            guard event.origin != instanceID else { return }
            _ = registry.deliver(event, on: registry.anyEventLoop)
        }
    }

    private func deliver(_ notifications: [LiveNotification]) {
        guard !notifications.isEmpty else { return }
        let batch = notifications.map { notification in
            (
                notification,
                EncodedFrame(
                    text: ServerFrame.notification(
                        id: notification.id, type: notification.type, itemJSON: notification.itemJSON))
            )
        }
        lastID.withLockedValue { $0 = max($0, notifications.map(\.id).max() ?? 0) }
        registry.deliver(batch)
    }

    /// A fresh listener starts from what is committed now.
    func startFromLatest() async throws {
        let latest = try await store.latestID()
        lastID.withLockedValue { $0 = max($0, latest) }
    }

    /// After a lost listener connection: delivers what was committed during the gap (sessions drop what they
    /// already have), or resets every socket if the gap is too long, and refreshes cached unread counts.
    func catchUp() async throws {
        let after = lastID.withLockedValue { $0 }
        let missed = try await store.notifications(after: after, limit: Self.catchUpLimit + 1)
        if missed.count > Self.catchUpLimit {
            registry.resetAll("the server missed too many notifications; refetch the inbox")
            try await startFromLatest()
        } else {
            logger.info("listener caught up", metadata: ["notifications": "\(missed.count)"])
            deliver(missed)
        }
        registry.refreshCounts()
    }
}
