/// A `POST /events` event: not stored, delivered to the sockets online now that subscribe to its type.
public struct EphemeralEvent: Sendable, Equatable {
    public var audiences: [String]
    public var eventType: String
    public var dataJSON: String
    /// The instance that accepted it; it delivers locally itself, so it skips its own NOTIFY.
    public var origin: String

    public init(audiences: [String], eventType: String, dataJSON: String, origin: String) {
        self.audiences = audiences
        self.eventType = eventType
        self.dataJSON = dataJSON
        self.origin = origin
    }
}
