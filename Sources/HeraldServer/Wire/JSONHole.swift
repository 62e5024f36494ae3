/// A value that a ``JSONWriter`` made with `leavingHoles` leaves out, by name, for another writer to put in: the
/// batched publish statement has PostgreSQL fill in what only the inserting statement knows (``NotifyEntryTemplate``).
/// A hole is filled with JSON text; a string's hole takes the string with its quotes.
public struct JSONHole: Hashable, Sendable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) {
        self.name = name
    }

    public var description: String { name }
}
