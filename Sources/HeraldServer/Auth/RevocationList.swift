import NIOConcurrencyHelpers

/// The users whose tokens issued before a moment are refused ("log out everywhere"), as this instance knows
/// them: loaded from PostgreSQL at start-up and after every gap in the listener's connection, and kept current by
/// the revocations other instances announce on the NOTIFY channel. ``TokenVerifier`` consults it on every use of
/// a token, verified afresh or remembered, so no cache outlives a revocation.
///
/// A revocation holds whole seconds (`iat` is whole seconds): a token issued in the second of the revocation is
/// accepted, so that a token minted right after it works.
public final class RevocationList: Sendable {
    private let revokedBefore = NIOLockedValueBox([String: Double]())

    public init() {}

    /// Whether `principal`'s token is revoked: issued before its user's revocation, or with no `iat` at all.
    func isRevoked(_ principal: Principal) -> Bool {
        guard let before = revokedBefore.withLockedValue({ $0[principal.userID] }) else { return false }
        guard let issuedAt = principal.issuedAt else { return true }
        return issuedAt < before
    }

    /// Records a revocation (the later one wins).
    func record(_ userID: String, before: Double) {
        revokedBefore.withLockedValue { $0[userID] = max($0[userID] ?? 0, before) }
    }

    /// Replaces everything known with `all` (PostgreSQL's table).
    func replace(with all: [String: Double]) {
        revokedBefore.withLockedValue { $0 = all }
    }
}
