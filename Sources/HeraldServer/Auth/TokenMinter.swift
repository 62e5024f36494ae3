import Foundation
import JWTKit

/// Mints HS256 tokens with `JWT_SECRET`, for `herald token` and for tests that need a real token.
public struct TokenMinter: Sendable {
    private let keys: JWTKeyCollection

    public init(secret: String) async {
        keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
    }

    public func mint(_ claims: HeraldClaims) async throws -> String {
        try await keys.sign(claims)
    }

    /// A token for `sub` valid for `ttl` seconds from now.
    public func mint(
        sub: String, locations: [String] = [], role: Role = .user, scope: String? = nil, ttl: Double = 3600
    ) async throws -> String {
        let now = Date().timeIntervalSince1970
        let claims = HeraldClaims(
            sub: sub, exp: now + ttl, iat: now, locationID: locations.first, locations: Array(locations.dropFirst()),
            role: role.rawValue, scope: scope)
        return try await mint(claims)
    }
}
