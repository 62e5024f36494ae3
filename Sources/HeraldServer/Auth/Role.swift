/// The `role` claim. Roles Herald does not know (6FB tokens carry `barber`, `client`, ...) are plain users:
/// an unknown role must never gain publishing rights.
public enum Role: String, Sendable, Codable {
    case user
    case staff
    case admin

    public init(claim: String?) {
        self = claim.flatMap { Role(rawValue: $0.lowercased()) } ?? .user
    }
}
