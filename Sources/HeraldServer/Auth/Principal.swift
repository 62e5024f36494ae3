/// Who a verified token says the caller is. Everything the inbox and the socket decide about visibility and
/// publishing is derived from this value, never from the request body.
public struct Principal: Sendable, Equatable {
    public static let publishScope = "notifications:publish"

    public let userID: String
    /// The union of `location_id` and `locations`, sorted and without duplicates.
    public let locations: [String]
    public let role: Role
    public let scopes: Set<String>
    /// `exp` as seconds since 1970.
    public let expiresAt: Double
    /// `iat` as seconds since 1970, if the token has one: revocation refuses tokens issued before it.
    public let issuedAt: Double?

    public init(
        userID: String, locations: [String], role: Role, scopes: Set<String>, expiresAt: Double,
        issuedAt: Double? = nil
    ) {
        self.userID = userID
        self.locations = Array(Set(locations)).sorted()
        self.role = role
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
    }

    /// Admins and backend services (the publish scope) may publish anywhere, broadcast included.
    public var publishesAnywhere: Bool {
        role == .admin || scopes.contains(Self.publishScope)
    }

    /// The audience keys whose notifications this principal sees: its own, its locations', and broadcast.
    public var audiences: [String] {
        [Audience.user(userID)] + sharedAudiences
    }

    /// The audiences stored once and shared with others: locations and broadcast.
    public var sharedAudiences: [String] {
        locations.map(Audience.location) + [Audience.broadcast]
    }
}
