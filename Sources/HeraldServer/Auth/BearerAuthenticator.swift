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
        try Self.principal(authorization: request.headers.first(name: .authorization), verifier: verifier)
    }

    /// The caller an `Authorization` header names, verified (and remembered, for its next request); also for the
    /// route answered without a Vapor `Request` (``PublishRoute``).
    static func principal(authorization header: String?, verifier: TokenVerifier) throws -> Principal {
        guard let header else { throw HeraldError.unauthorized("Not authenticated") }
        return try verifier.verify(token(authorization: header), remember: true)
    }

    /// The token of an `Authorization: Bearer <token>` header (the scheme in any case, spaces and tabs around the
    /// token dropped).
    ///
    /// Read as UTF-8: splitting the header as `Character`s ran every request's few hundred bytes of token through
    /// grapheme breaking, and Foundation's `trimmingCharacters` cost more than the token cache's lookup.
    static func token(authorization header: String) throws -> String {
        let utf8 = header.utf8
        let blank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let start = utf8.firstIndex { $0 != UInt8(ascii: " ") } ?? utf8.endIndex
        let schemeEnd = utf8[start...].firstIndex(of: UInt8(ascii: " ")) ?? utf8.endIndex
        let scheme = utf8[start..<schemeEnd]
        // `| 0x20` lowers an ASCII letter and leaves a byte that is not one unequal to every letter of "bearer".
        let isBearer =
            scheme.count == 6 && zip(scheme, "bearer".utf8).allSatisfy { byte, letter in byte | 0x20 == letter }
        var token = utf8[schemeEnd...].drop { blank($0) }
        while let last = token.last, blank(last) { token = token.dropLast() }
        guard isBearer, !token.isEmpty else { throw HeraldError.unauthorized("Invalid authentication scheme") }
        return String(Substring(token))
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
