/// The ids a publish stored, in the order of its recipients, and whether they come from an earlier request with
/// the same idempotency key.
public struct PublishResult: Sendable, Equatable {
    public var ids: [Int64]
    public var replayed: Bool
    /// Per personal recipient, the ids collapse replaced, for the `inbox` events that follow.
    public var replaced: [Int64]
}
