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

    /// The keys for one `alg`: jwt-kit's algorithm for each `kid`, and the one a token without a known `kid` gets
    /// (jwt-kit's default key: the PEM key, or the first key of the JWKS).
    struct KeySet: Sendable {
        let byKeyID: [String: any JWTAlgorithm]
        let fallback: (any JWTAlgorithm)?

        /// Takes the keys out of jwt-kit's collection once, at start-up: the collection is an actor, and asking it
        /// on every token made each verification a suspension, and each socket's handshake a Task.
        static func resolving(_ keys: JWTKeyCollection, algorithm: String, keyIDs: Set<String>) async throws
            -> KeySet
        {
            var byKeyID: [String: any JWTAlgorithm] = [:]
            for kid in keyIDs {
                byKeyID[kid] = try await keys.getKey(for: JWKIdentifier(string: kid), alg: algorithm)
            }
            return KeySet(byKeyID: byKeyID, fallback: try? await keys.getKey(for: nil, alg: algorithm))
        }
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
        /// Per algorithm, jwt-kit's collection and the `kid`s in it.
        var collections: [String: (keys: JWTKeyCollection, keyIDs: Set<String>)] = [:]
        if let secret {
            let keys = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            collections["HS256"] = (keys, [])
        }
        if let pem = publicKeyPEM {
            if let rsa = try? Insecure.RSA.PublicKey(pem: pem) {
                collections["RS256"] = (await JWTKeyCollection().add(rsa: rsa, digestAlgorithm: .sha256), [])
            } else if let ec = try? ES256PublicKey(pem: pem) {
                collections["ES256"] = (await JWTKeyCollection().add(ecdsa: ec), [])
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
                var collection = collections[algorithm] ?? (JWTKeyCollection(), [])
                do {
                    _ = try await collection.keys.add(jwksJSON: single.string)
                } catch {
                    throw ConfigurationError(
                        setting: "JWT_JWKS_FILE", problem: "has a key jwt-kit cannot load (\(error))")
                }
                if let kid = entry["kid"]?.stringValue { collection.keyIDs.insert(kid) }
                collections[algorithm] = collection
            }
            if !collections.keys.contains(where: { $0 != "HS256" }) {
                throw ConfigurationError(setting: "JWT_JWKS_FILE", problem: "holds no RS256 or ES256 key")
            }
        }
        var sets: [String: KeySet] = [:]
        for (algorithm, collection) in collections {
            do {
                sets[algorithm] = try await KeySet.resolving(
                    collection.keys, algorithm: algorithm, keyIDs: collection.keyIDs)
            } catch {
                // Keys without a kid come from the secret or the PEM file; a JWKS key always has one.
                let setting =
                    algorithm == "HS256"
                    ? "JWT_SECRET" : collection.keyIDs.isEmpty ? "JWT_PUBLIC_KEY_FILE" : "JWT_JWKS_FILE"
                throw ConfigurationError(
                    setting: setting, problem: "has a key jwt-kit cannot use for \(algorithm) (\(error))")
            }
        }
        return TokenVerifier(keySets: sets, issuer: issuer, audience: audience, leeway: leeway)
    }

    /// Verifies `token` and returns who it names. Throws ``HeraldError/unauthorized(_:)`` with a reason.
    ///
    /// Synchronous, so a handshake is answered on its event loop without a Task: jwt-kit's algorithm checks the
    /// signature over the first two parts' text, exactly as its own `verify` does, and ``JSONParser`` reads the
    /// header and, once the signature holds, the claims. An RS256 or ES256 signature costs tens of microseconds of
    /// the loop, an HS256 one about one.
    ///
    /// With `remember`, a verified token's claims are kept for its next use (``VerifiedTokenCache``): REST
    /// callers send the same token on every request. A socket presents its token once, so the handshake does not
    /// remember it; ten thousand sockets would otherwise keep ten thousand entries, half a kilobyte each.
    public func verify(_ token: String, now: Date = Date(), remember: Bool = false) throws -> Principal {
        guard !token.isEmpty else { throw HeraldError.unauthorized("missing token") }
        guard token.utf8.count <= Self.maxTokenBytes else { throw HeraldError.unauthorized("token too large") }
        if let claims = verified.claims(for: token) {
            return try unrevoked(try principal(from: claims, now: now.timeIntervalSince1970))
        }
        let text = Array(token.utf8)
        let parts = text.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]),
            let header = JSONValue.parse(headerBytes)
        else { throw HeraldError.unauthorized("malformed token") }
        guard let algorithm = header["alg"]?.stringValue else { throw HeraldError.unauthorized("malformed token") }
        guard let keySet = keySets[algorithm] else {
            throw HeraldError.unauthorized("algorithm \(Self.printable(algorithm)) not accepted")
        }
        let kid = header["kid"]?.stringValue
        if let kid, !keySet.byKeyID.isEmpty, keySet.byKeyID[kid] == nil {
            throw HeraldError.unauthorized("unknown key id")
        }
        guard let key = kid.flatMap({ keySet.byKeyID[$0] }) ?? keySet.fallback,
            let signature = Base64URL.decode(parts[2])
        else { throw HeraldError.unauthorized("malformed token") }
        let signedText = text[..<parts[2].startIndex].dropLast()
        guard (try? key.verify(signature, signs: signedText)) == true else {
            throw HeraldError.unauthorized("invalid signature")
        }
        guard let payload = Base64URL.decode(parts[1]), let document = JSONValue.parse(payload),
            let claims = try? HeraldClaims(json: document)
        else { throw HeraldError.unauthorized("malformed token") }
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
}
