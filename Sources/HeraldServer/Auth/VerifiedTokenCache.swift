import NIOConcurrencyHelpers

/// Claims of tokens whose signature already checked out, keyed by the whole token text.
///
/// Services and dashboards send the same bearer token on every request, and checking it (base64, an HMAC or RSA
/// signature, claims through Foundation's JSONDecoder) was a tenth of the CPU of a publish. A hit skips only the
/// signature and the parsing: the time checks (`exp`, `nbf`, `iat`) still run on every use. The key is the whole
/// token, signature included, so a token altered in any byte is a miss and is verified afresh.
final class VerifiedTokenCache: Sendable {
    /// At about 300 bytes a token, a full cache is a few megabytes; when full it starts over.
    static let capacity = 10_000

    private let entries = NIOLockedValueBox([String: HeraldClaims]())

    func claims(for token: String) -> HeraldClaims? {
        entries.withLockedValue { $0[token] }
    }

    func remember(_ claims: HeraldClaims, for token: String) {
        entries.withLockedValue { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = claims
        }
    }
}
