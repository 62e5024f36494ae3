import Foundation

/// An order to close sockets, wherever they live: travels on the NOTIFY channel (`k`) to every instance, and
/// each closes those it holds. It closes some sockets of one instance (the connection limit, an operator's
/// disconnect of one session) or every socket of one user (an operator's disconnect-all, a revocation).
public struct SocketCloseOrder: Sendable, Equatable {
    public enum Target: Sendable, Equatable {
        /// These sockets of one instance's incarnation, by that instance's own ids for them.
        case sockets(incarnation: UUID, localIDs: [UInt64])
        /// Every socket of this user.
        case user(String)
    }

    public var target: Target
    /// The close code (4409, 4410, 4429, 4401).
    public var code: UInt16
    public var reason: String
    /// With a revocation: only sockets whose token was issued before this moment (seconds since 1970), and every
    /// instance records the revocation too, so its REST and handshakes refuse such tokens from then on.
    public var issuedBefore: Double?

    public init(target: Target, code: UInt16, reason: String, issuedBefore: Double? = nil) {
        self.target = target
        self.code = code
        self.reason = reason
        self.issuedBefore = issuedBefore
    }

    /// Whether a socket whose token was issued at `issuedAt` (nil: no `iat`) falls under this order's revocation.
    func covers(issuedAt: Double?) -> Bool {
        guard let issuedBefore else { return true }
        guard let issuedAt else { return true }
        return issuedAt < issuedBefore
    }
}
