import Vapor

/// Verifies `Authorization: Bearer <jwt>` on every REST route behind it and makes the ``Principal`` available as
/// `request.principal`. Failures answer 401 with the reason and `WWW-Authenticate: Bearer`.
public struct BearerAuthenticator: AsyncMiddleware {
    private let verifier: TokenVerifier
    private let membership: MembershipStore

    public init(verifier: TokenVerifier, membership: MembershipStore) {
        self.verifier = verifier
        self.membership = membership
    }

    public func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard let header = request.headers.first(name: .authorization) else {
            throw HeraldError.unauthorized("Not authenticated")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw HeraldError.unauthorized("Invalid authentication scheme")
        }
        let principal = try verifier.verify(
            String(parts[1]).trimmingCharacters(in: .whitespaces), remember: true)
        do {
            try await membership.record(principal)
        } catch {
            request.logger.warning(
                "could not record the user's locations",
                metadata: ["error": "\(DatabaseFailure.description(of: error))"])
        }
        request.storage[PrincipalKey.self] = principal
        return try await next.respond(to: request)
    }

    enum PrincipalKey: StorageKey {
        typealias Value = Principal
    }
}

extension Request {
    /// The caller, as verified by ``BearerAuthenticator``.
    public var principal: Principal {
        get throws {
            guard let principal = storage[BearerAuthenticator.PrincipalKey.self] else {
                throw HeraldError.unauthorized("Not authenticated")
            }
            return principal
        }
    }
}
