import Logging

/// Tells every instance that a user's inbox changed through REST, with the count after the change, so each
/// pushes `{"type":"inbox"}` to that user's sockets. The change is already committed; a failure here
/// is logged, never turned into a failed request.
public struct InboxNotifier: Sendable {
    private let inbox: InboxStore
    private let fanout: FanoutStore
    private let logger: Logger

    public init(inbox: InboxStore, fanout: FanoutStore, logger: Logger) {
        self.inbox = inbox
        self.fanout = fanout
        self.logger = logger
    }

    public func changed(_ principal: Principal, _ reason: InboxChange.Reason, ids: [Int64]) async {
        do {
            let unread = try await inbox.unreadCount(principal)
            let change = InboxChange(
                userID: principal.userID, reason: reason, ids: ids, unreadCount: unread.count, lastID: unread.lastID)
            try await fanout.notify(.inbox(change))
        } catch {
            logger.warning(
                "could not announce an inbox change", metadata: ["error": "\(DatabaseFailure.description(of: error))"])
        }
    }
}
