import Vapor

/// Verifies `Authorization: Bearer <jwt>` on every REST route behind it and makes the ``Principal`` available as
/// `request.principal`. Failures answer 401 with the reason and `WWW-Authenticate: Bearer`.
///
/// It works on futures, not `async`, as every middleware every request passes does (``RequestLogMiddleware``):
/// the token is checked synchronously, and only a principal whose locations are not recorded yet (once in
/// ``MembershipStore/refreshInterval`` per user) waits for a statement, in a task of its own.
public struct BearerAuthenticator: Middleware {
    private let verifier: TokenVerifier
    private let membership: MembershipStore

    public init(verifier: TokenVerifier, membership: MembershipStore) {
        self.verifier = verifier
        self.membership = membership
    }

    public func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        let principal: Principal
        do {
            principal = try authenticate(request)
        } catch {
            return request.eventLoop.makeFailedFuture(error)
        }
        request.storage[PrincipalKey.self] = principal
        if membership.isFresh(principal) { return next.respond(to: request) }
        let membership = membership
        return request.eventLoop.makeFutureWithTask {
            do {
                try await membership.record(principal)
            } catch {
                request.logger.warning(
                    "could not record the user's locations",
                    metadata: ["error": "\(DatabaseFailure.description(of: error))"])
            }
        }.flatMap { next.respond(to: request) }
    }

    private func authenticate(_ request: Request) throws -> Principal {
        guard let header = request.headers.first(name: .authorization) else {
            throw HeraldError.unauthorized("Not authenticated")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw HeraldError.unauthorized("Invalid authentication scheme")
        }
        // Spaces around the token are dropped by hand: Foundation's `trimmingCharacters` cost more than the token
        // cache's lookup.
        var token = parts[1]
        while token.first == " " || token.first == "\t" { token.removeFirst() }
        while token.last == " " || token.last == "\t" { token.removeLast() }
        return try verifier.verify(String(token), remember: true)
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
