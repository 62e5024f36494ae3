import Foundation

/// A validated `POST /notifications` body: what to store, for whom, and who asked.
public struct Publication: Sendable {
    public enum Target: Sendable, Equatable {
        case users([String])
        case location(String)
        case broadcast

        /// The audience keys the notification is filed under.
        public var audiences: [String] {
            switch self {
            case .users(let ids): return ids.map(Audience.user)
            case .location(let id): return [Audience.location(id)]
            case .broadcast: return [Audience.broadcast]
            }
        }
    }

    public var target: Target
    public var type: String
    public var priority: String
    public var title: String
    public var message: String
    public var dataJSON: String
    public var actionURL: String?
    public var expiresAt: Date?
    public var collapseKey: String?
    public var idempotencyKey: String?
    /// The publishing token's `sub`: idempotency keys are scoped to it.
    public var publisher: String
}
