/// Who may publish where: admins and the publish scope anywhere, staff only to their own locations and
/// to users last seen at them, plain users nowhere.
public struct PublishPolicy: Sendable {
    /// What the token alone says of a publish.
    enum Verdict: Equatable {
        case allowed
        case refused(HeraldError)
        /// Staff publishing to users: allowed if every one of them was last seen at one of `locations`, which only
        /// the membership table knows.
        case dependsOnMembership(users: [String], locations: [String])
    }

    private let membership: MembershipStore

    public init(membership: MembershipStore) {
        self.membership = membership
    }

    /// Throws ``HeraldError/forbidden(_:)`` unless `principal` may publish to `target`.
    public func authorize(_ principal: Principal, to target: Publication.Target) async throws {
        switch Self.verdict(principal, to: target) {
        case .allowed:
            return
        case .refused(let error):
            throw error
        case .dependsOnMembership(let ids, let locations):
            let allowed = try await membership.users(ids, atAnyOf: locations)
            guard allowed.count == Set(ids).count else {
                throw HeraldError.forbidden("Staff may only publish to users at their own locations")
            }
        }
    }

    /// The decision that needs no statement, for a caller that must not wait (``PublishRoute``).
    static func verdict(_ principal: Principal, to target: Publication.Target) -> Verdict {
        if principal.publishesAnywhere { return .allowed }
        guard principal.role == .staff else {
            return .refused(.forbidden("Not allowed to publish notifications"))
        }
        switch target {
        case .broadcast:
            return .refused(.forbidden("Only admins and services may broadcast"))
        case .location(let id):
            guard principal.locations.contains(id) else {
                return .refused(.forbidden("Staff may only publish to their own locations"))
            }
            return .allowed
        case .users(let ids):
            guard !principal.locations.isEmpty else {
                return .refused(.forbidden("Staff may only publish to users at their own locations"))
            }
            return .dependsOnMembership(users: ids, locations: principal.locations)
        }
    }
}
