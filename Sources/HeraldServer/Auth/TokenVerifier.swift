import Foundation
import JWTKit

/// Verifies bearer tokens and turns them into a ``Principal``.
///
/// jwt-kit checks the signature. Everything it leaves to the caller is checked here, before the signature is
/// even looked at where possible: the size, the shape, that the header's `alg` is one this configuration has a key
/// for (so an RS256 token never meets the HMAC secret, and `alg: none` never meets anything), that a `kid` names a
/// key we hold (jwt-kit would silently fall back to its default key), and after the signature: `exp` and `nbf`
/// with the configured leeway, `iss` and `aud`.
public struct TokenVerifier: Sendable {
    /// Real tokens are well under 2 KB; anything this large is refused before any parsing.
    public static let maxTokenBytes = 8192

    /// The keys for one `alg`, and the `kid`s among them.
    struct KeySet: Sendable {
        let keys: JWTKeyCollection
        let keyIDs: Set<String>
    }

    private let keySets: [String: KeySet]
    private let issuer: String?
    private let audience: String?
    private let leeway: Double
    private let verified = VerifiedTokenCache()
    /// Revoked users' tokens, checked on every use; none in the fuzz target and in `herald token`.
    let revocations: RevocationList

    init(
        keySets: [String: KeySet], issuer: String?, audience: String?, leeway: Double,
        revocations: RevocationList = RevocationList()
    ) {
        self.keySets = keySets
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.revocations = revocations
    }

    /// The algorithms this configuration accepts, e.g. `["HS256", "RS256"]`.
    public var algorithms: [String] { keySets.keys.sorted() }

    /// Builds the key sets from the JWT settings; throws ``ConfigurationError`` naming a bad one.
    public static func make(
        secret: String?, publicKeyPEM: String?, jwksJSON: String?, issuer: String?, audience: String?, leeway: Double
    ) async throws -> TokenVerifier {
        var sets: [String: KeySet] = [:]
        if let secret {
            let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            sets["HS256"] = KeySet(keys: keys, keyIDs: [])
        }
        if let pem = publicKeyPEM {
            if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
                sets["RS256"] = KeySet(
                    keys: await JWTKeyCollection().add(rsa: rsa, digestAlgorithm: .sha256), keyIDs: [])
            } else if let ec = try? ES256PublicKey(pem: pem) {
                sets["ES256"] = KeySet(keys: await JWTKeyCollection().add(ecdsa: ec), keyIDs: [])
            } else {
                throw ConfigurationError(
                    setting: "JWT_PUBLIC_KEY_FILE", problem: "is not an RSA or P-256 public key in PEM")
            }
        }
        if let jwksJSON {
            guard case .object(let document)? = JSONValue.parse(Array(jwksJSON.utf8)),
                case .array(let entries)? = document["keys"]
            else {
                throw ConfigurationError(setting: "JWT_JWKS_FILE", problem: "is not a JWKS document with a keys array")
            }
            for entry in entries {
                let algorithm: String
                switch (entry["kty"]?.stringValue, entry["alg"]?.stringValue) {
                case ("RSA", nil), ("RSA", "RS256"): algorithm = "RS256"
                case ("EC", nil), ("EC", "ES256"): algorithm = "ES256"
                default: continue  // keys for other algorithms are not ours to accept
                }
                var single = JSONWriter()
                single.beginObject()
                single.key("keys")
                single.beginArray()
                single.value(entry)
                single.endArray()
                single.endObject()
                let set = sets[algorithm] ?? KeySet(keys: JWTKeyCollection(), keyIDs: [])
                do {
                    _ = try await set.keys.add(jwksJSON: single.string)
                } catch {
                    throw ConfigurationError(
                        setting: "JWT_JWKS_FILE", problem: "has a key jwt-kit cannot load (\(error))")
                }
                var ids = set.keyIDs
                if let kid = entry["kid"]?.stringValue { ids.insert(kid) }
                sets[algorithm] = KeySet(keys: set.keys, keyIDs: ids)
            }
            if !sets.keys.contains(where: { $0 != "HS256" }) {
                throw ConfigurationError(setting: "JWT_JWKS_FILE", problem: "holds no RS256 or ES256 key")
            }
        }
        return TokenVerifier(keySets: sets, issuer: issuer, audience: audience, leeway: leeway)
    }

    /// Verifies `token` and returns who it names. Throws ``HeraldError/unauthorized(_:)`` with a reason.
    ///
    /// With `remember`, a verified token's claims are kept for its next use (``VerifiedTokenCache``): REST
    /// callers send the same token on every request. A socket presents its token once, so the handshake does not
    /// remember it; ten thousand sockets would otherwise keep ten thousand entries, half a kilobyte each.
    public func verify(_ token: String, now: Date = Date(), remember: Bool = false) async throws -> Principal {
        guard !token.isEmpty else { throw HeraldError.unauthorized("missing token") }
        guard token.utf8.count <= Self.maxTokenBytes else { throw HeraldError.unauthorized("token too large") }
        if let claims = verified.claims(for: token) {
            return try unrevoked(try principal(from: claims, now: now.timeIntervalSince1970))
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Self.base64URLDecode(parts[0]),
            let header = JSONValue.parse(headerBytes)
        else { throw HeraldError.unauthorized("malformed token") }
        guard let algorithm = header["alg"]?.stringValue else { throw HeraldError.unauthorized("malformed token") }
        guard let keySet = keySets[algorithm] else {
            throw HeraldError.unauthorized("algorithm \(Self.printable(algorithm)) not accepted")
        }
        if let kid = header["kid"]?.stringValue, !keySet.keyIDs.isEmpty, !keySet.keyIDs.contains(kid) {
            throw HeraldError.unauthorized("unknown key id")
        }
        let claims: HeraldClaims
        do {
            claims = try await keySet.keys.verify(token, as: HeraldClaims.self)
        } catch let error as HeraldError {
            throw error
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw HeraldError.unauthorized("invalid signature")
        } catch {
            throw HeraldError.unauthorized("malformed token")
        }
        let principal = try unrevoked(try principal(from: claims, now: now.timeIntervalSince1970))
        if remember { verified.remember(claims, for: token) }
        return principal
    }

    /// The last check, the dearest to keep current but cheap to make: a revoked user's older tokens are refused.
    private func unrevoked(_ principal: Principal) throws -> Principal {
        if revocations.isRevoked(principal) { throw HeraldError.unauthorized("token revoked") }
        return principal
    }

    /// Applies the checks jwt-kit leaves to the caller.
    func principal(from claims: HeraldClaims, now: Double) throws -> Principal {
        guard let sub = claims.sub, !sub.isEmpty else { throw HeraldError.unauthorized("token has no sub") }
        guard let exp = claims.exp else { throw HeraldError.unauthorized("token has no exp") }
        guard now < exp + leeway else { throw HeraldError.unauthorized("token expired") }
        if let nbf = claims.nbf, now + leeway < nbf { throw HeraldError.unauthorized("token not yet valid") }
        // A future `iat` is not refused: RFC 7519 asks nothing of it, and an issuer whose clock runs a few seconds
        // fast would otherwise mint tokens that fail right after they are minted. `exp` and `nbf` bound a token's
        // life; `iat` only dates it (revocation compares it).
        if let issuer, claims.iss != issuer { throw HeraldError.unauthorized("wrong issuer") }
        if let audience, !(claims.aud ?? []).contains(audience) { throw HeraldError.unauthorized("wrong audience") }
        let scopes = Set((claims.scope ?? "").split(separator: " ").map(String.init))
        return Principal(
            userID: sub, locations: claims.allLocations, role: Role(claim: claims.role), scopes: scopes,
            expiresAt: exp, issuedAt: claims.iat)
    }

    /// The `alg` echoed in a reason is attacker-chosen: keep it short and printable.
    private static func printable(_ text: String) -> String {
        String(text.prefix(16).filter { $0.isLetter || $0.isNumber })
    }

    static func base64URLDecode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        return Data(base64Encoded: base64).map { Array($0) }
    }
}
