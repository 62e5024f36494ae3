import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Turns what arrives on the NOTIFY channel into deliveries. It runs on the listener's task, one payload at a
/// time, so notifications reach the registry in commit (and so id) order, including those fetched by id.
final class FanoutDispatcher: Sendable {
    /// A listener gap longer than this many notifications sends `reset` instead of replaying them all.
    static let catchUpLimit = 10_000
    /// Pauses before the attempts to fetch notifications sent by id, after the first: about 3 s in all.
    static let fetchRetries: [Duration] = [.milliseconds(100), .milliseconds(300), .milliseconds(700), .seconds(1.5)]
    /// How long one attempt may take; a pooled connection whose network went silent would never answer.
    static let fetchDeadline: Duration = .seconds(2)

    private let registry: SocketRegistry
    private let store: FanoutStore
    private let instanceID: String
    private let logger: Logger
    private let metrics: HeraldMetrics
    private let revocations: RevocationList
    private let revocationStore: RevocationStore
    private let incarnation: UUID
    /// The highest notification id handed to the registry: where a catch-up after a gap starts.
    private let lastID = NIOLockedValueBox<Int64>(0)

    init(
        registry: SocketRegistry, store: FanoutStore, instanceID: String, incarnation: UUID,
        revocations: RevocationList, revocationStore: RevocationStore, logger: Logger, metrics: HeraldMetrics
    ) {
        self.registry = registry
        self.store = store
        self.instanceID = instanceID
        self.incarnation = incarnation
        self.revocations = revocations
        self.revocationStore = revocationStore
        self.logger = logger
        self.metrics = metrics
    }

    func handle(_ payload: String) async {
        guard let message = FanoutMessage(payload: payload) else {
            logger.warning("ignoring a malformed fan-out payload", metadata: ["bytes": "\(payload.utf8.count)"])
            return
        }
        await handle(message)
    }

    private func handle(_ message: FanoutMessage) async {
        switch message {
        case .notifications(let notifications):
            deliver(notifications)
        case .notificationIDs(let ids):
            await deliverFetched(ids)
        case .inbox(let change):
            registry.deliver(change)
        case .event(let event):
            guard event.origin != instanceID else { return }
            _ = registry.deliver(event, on: registry.anyEventLoop)
        case .stored(let id):
            await handleStored(id)
        case .closeSockets(let order):
            if case .user(let user) = order.target, let before = order.issuedBefore {
                revocations.record(user, before: before)
            }
            let closed = await registry.close(order, here: incarnation)
            if closed > 0 { metrics.evicted(Self.evictionReason(order), count: closed) }
        }
    }

    /// Fetches and delivers notifications sent by id. They must not be skipped: later notifications move every
    /// socket past these ids, so nothing would ever send them. The dispatcher waits here, keeping the order,
    /// while it retries; if the database still does not answer, every socket is told to refetch (`reset`).
    ///
    /// Only the notifications this instance has sockets for are fetched whole: a publish of large notifications
    /// to a thousand users is fetched by each instance for its own few of them, not a thousand times 30 KB each.
    private func deliverFetched(_ ids: [Int64]) async {
        let store = store
        let registry = registry
        let fetched = await retrying { () -> [LiveNotification] in
            let routes = try await store.audiences(ids: ids)
            let here = await registry.audiencesWithSockets(Set(routes.map(\.audience)))
            let wanted = routes.filter { here.contains($0.audience) }.map(\.id)
            return wanted.isEmpty ? [] : try await store.notifications(ids: wanted)
        }
        switch fetched {
        case .success(let notifications):
            deliver(notifications)
        case .failure(let failure):
            metrics.databaseError("listener")
            logger.error(
                "could not fetch notifications sent by id; every socket is told to refetch",
                metadata: ["error": "\(failure.description)", "ids": "\(ids.count)"])
            lastID.withLockedValue { $0 = max($0, ids.max() ?? 0) }
            registry.resetAll("the server could not load some notifications; refetch the inbox")
            registry.refreshCounts()
        }
    }

    /// A message too large for NOTIFY, read back from the table and handled as if it had come whole.
    private func handleStored(_ id: Int64) async {
        let store = store
        switch await retrying({ try await store.storedMessage(id) }) {
        case .success(let message?):
            if case .stored = message { return }  // a reference to a reference is not one of ours
            await handle(message)
        case .success(nil):
            logger.warning("a stored fan-out message is gone", metadata: ["id": "\(id)"])
        case .failure(let failure):
            metrics.databaseError("listener")
            logger.error(
                "could not read a stored fan-out message",
                metadata: ["error": "\(failure.description)", "id": "\(id)"])
        }
    }

    /// Why a fetch gave up: the last attempt's failure.
    struct FetchFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// `fetch`'s value, tried again after each of ``fetchRetries``, every attempt bounded by ``fetchDeadline``.
    private func retrying<T: Sendable>(_ fetch: @escaping @Sendable () async throws -> T) async -> Result<
        T, FetchFailure
    > {
        var failure = FetchFailure(description: "no answer within \(Self.fetchDeadline)")
        for pause in [Duration.zero] + Self.fetchRetries {
            if pause > .zero { try? await Task.sleep(for: pause) }
            let attempt = await Timebox.value(within: Self.fetchDeadline) { () -> Result<T, FetchFailure> in
                do {
                    return .success(try await fetch())
                } catch {
                    return .failure(FetchFailure(description: DatabaseFailure.description(of: error)))
                }
            }
            switch attempt {
            case .success(let value)?: return .success(value)
            case .failure(let error)?: failure = error
            case nil: failure = FetchFailure(description: "no answer within \(Self.fetchDeadline)")
            }
        }
        return .failure(failure)
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

    /// The `herald_evictions_total` reason of a close order.
    static func evictionReason(_ order: SocketCloseOrder) -> String {
        switch order.code {
        case 4401: "revoked"
        case 4410: "operator"
        case 4429: "limit"
        default: "replaced"
        }
    }

    /// A fresh listener starts from what is committed now.
    func startFromLatest() async throws {
        revocations.replace(with: try await revocationStore.all())
        let latest = try await store.latestID()
        lastID.withLockedValue { $0 = max($0, latest) }
    }

    /// After a lost listener connection: delivers what was committed during the gap (sessions drop what they
    /// already have), or resets every socket if the gap is too long, and refreshes cached unread counts.
    func catchUp() async throws {
        // Revocations announced during the gap are in the table.
        revocations.replace(with: try await revocationStore.all())
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
