/// Who may publish where: admins and the publish scope anywhere, staff only to their own locations and
/// to users last seen at them, plain users nowhere.
public struct PublishPolicy: Sendable {
    private let membership: MembershipStore

    public init(membership: MembershipStore) {
        self.membership = membership
    }

    /// Throws ``HeraldError/forbidden(_:)`` unless `principal` may publish to `target`.
    public func authorize(_ principal: Principal, to target: Publication.Target) async throws {
        if principal.publishesAnywhere { return }
        guard principal.role == .staff else {
            throw HeraldError.forbidden("Not allowed to publish notifications")
        }
        switch target {
        case .broadcast:
            throw HeraldError.forbidden("Only admins and services may broadcast")
        case .location(let id):
            guard principal.locations.contains(id) else {
                throw HeraldError.forbidden("Staff may only publish to their own locations")
            }
        case .users(let ids):
            let allowed =
                principal.locations.isEmpty ? [] : try await membership.users(ids, atAnyOf: principal.locations)
            guard allowed.count == Set(ids).count else {
                throw HeraldError.forbidden("Staff may only publish to users at their own locations")
            }
        }
    }
}
