/// A migration that cannot be applied; the message says which and why.
public struct MigrationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
