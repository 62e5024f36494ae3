import Foundation
import HeraldServer
import JWTKit
import Testing

/// Bad tokens on REST are refused with 401 and a reason that never echoes the token.
@Suite("Tokens on REST")
struct TokenTests {
    static let fixtures = TestCluster.packageRoot.appendingPathComponent("Tests/HeraldServerTests/Fixtures")

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    static func claims(
        _ sub: String = "tok", exp: Double = 600, nbf: Double? = nil, iss: String? = nil, aud: String? = nil
    )
        -> HeraldClaims
    {
        let now = Date().timeIntervalSince1970
        return HeraldClaims(
            sub: sub, exp: now + exp, nbf: nbf.map { now + $0 }, iat: now, iss: iss, aud: aud.map { [$0] })
    }

    static func rsaToken(_ claims: HeraldClaims) async throws -> String {
        let key = try Insecure.RSA.PrivateKey(pem: try fixture("rsa-private.pem"))
        return try await JWTKeyCollection().add(rsa: key, digestAlgorithm: .sha256).sign(claims)
    }

    static func ecToken(_ claims: HeraldClaims, kid: String) async throws -> String {
        let key = try ES256PrivateKey(pem: try fixture("ec-private.pem"))
        return try await JWTKeyCollection().add(ecdsa: key, kid: JWKIdentifier(string: kid)).sign(
            claims, kid: JWKIdentifier(string: kid))
    }

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Asserts a 401 whose detail is `reason` and does not contain the token.
    static func expectRefused(_ server: TestServer, _ token: String?, _ reason: String, rawHeader: String? = nil)
        async throws
    {
        var headers: [(String, String)] = []
        if let rawHeader { headers.append(("Authorization", rawHeader)) }
        let response = try await server.request(.GET, "/api/v1/notifications", token: token, headers: headers)
        #expect(response.status == .unauthorized, "\(reason)")
        #expect(response.detail == reason)
        #expect(response.headers.first(name: "WWW-Authenticate") == "Bearer")
        if let token, token.count > 8 { #expect(!response.body.contains(token)) }
    }

    /// The refused tokens and the reason each gets; `nil` is no token at all. The WebSocket suite
    /// replays the same list, so REST and the socket refuse the same things for the same reasons.
    static func refusedTokens(_ server: TestServer) async throws -> [(token: String?, reason: String)] {
        let payload = Self.base64URL(#"{"sub":"tok","exp":\#(Int(Date().timeIntervalSince1970) + 600)}"#)
        let none = Self.base64URL(#"{"alg":"none","typ":"JWT"}"#) + "." + payload + "."
        let wrongKey = try await TokenMinter(secret: "another-secret-0123456789abcdef-0123456789").mint(Self.claims())
        let parts = try await server.minter.mint(Self.claims()).split(separator: ".")
        let forged =
            parts[0] + "." + Self.base64URL(#"{"sub":"admin","exp":9999999999,"role":"admin"}"#) + "." + parts[2]
        var noExp = Self.claims()
        noExp.exp = nil
        return [
            (nil, "Not authenticated"),
            ("garbage", "malformed token"),
            ("a.b.c", "malformed token"),
            (none, "algorithm none not accepted"),
            (wrongKey, "invalid signature"),
            (String(forged), "invalid signature"),
            (try await Self.rsaToken(Self.claims()), "algorithm RS256 not accepted"),
            (try await server.minter.mint(Self.claims(exp: -5)), "token expired"),
            (try await server.minter.mint(Self.claims(nbf: 120)), "token not yet valid"),
            (try await server.minter.mint(noExp), "token has no exp"),
            (String(repeating: "a", count: 16 * 1024), "token too large"),
        ]
    }

    @Test("a token dated a little ahead of the server's clock (an issuer with a fast clock) is accepted")
    func futureIssuedAt() async throws {
        try await TestServer.with { server in
            var claims = Self.claims("skewed")
            claims.iat = Date().timeIntervalSince1970 + 5
            let token = try await server.minter.mint(claims)
            #expect(try await server.request(.GET, "/api/v1/notifications", token: token).status == .ok)
        }
    }

    @Test("missing, garbage, alg none, wrong key, RS256 against HS-only, expired, nbf, oversized")
    func refusedTokens() async throws {
        try await TestServer.with { server in
            try await Self.expectRefused(server, nil, "Invalid authentication scheme", rawHeader: "Basic dXNlcjpwYXNz")
            for (token, reason) in try await Self.refusedTokens(server) {
                try await Self.expectRefused(server, token, reason)
            }
            // And a good token works, so the refusals above are about the tokens.
            let good = try await server.minter.mint(Self.claims())
            #expect(try await server.request(.GET, "/api/v1/notifications", token: good).status == .ok)
        }
    }

    /// Verified tokens are remembered (VerifiedTokenCache); a remembered one must still expire on time, and a
    /// copy with its signature altered must not ride on the original's entry.
    @Test("a token accepted once is refused when it expires, and an altered copy is checked afresh")
    func rememberedTokensStillExpire() async throws {
        try await TestServer.with { server in
            // Eight seconds to use it twice before it expires, on a machine the whole suite keeps busy.
            let token = try await server.minter.mint(Self.claims(exp: 8))
            #expect(try await server.request(.GET, "/api/v1/notifications", token: token).status == .ok)
            #expect(try await server.request(.GET, "/api/v1/notifications", token: token).status == .ok)
            var altered = Array(token)
            altered[altered.count - 2] = altered[altered.count - 2] == "A" ? "B" : "A"
            try await Self.expectRefused(server, String(altered), "invalid signature")
            try await Task.sleep(for: .seconds(8.5))
            try await Self.expectRefused(server, token, "token expired")
        }
    }

    @Test("issuer and audience are enforced when configured; leeway forgives small skew")
    func issuerAudienceLeeway() async throws {
        try await TestServer.with(["JWT_ISSUER": "6fb", "JWT_AUDIENCE": "herald", "JWT_LEEWAY": "30"]) { server in
            let good = try await server.minter.mint(Self.claims(iss: "6fb", aud: "herald"))
            #expect(try await server.request(.GET, "/api/v1/notifications", token: good).status == .ok)
            try await Self.expectRefused(
                server, try await server.minter.mint(Self.claims(iss: "evil", aud: "herald")), "wrong issuer")
            try await Self.expectRefused(
                server, try await server.minter.mint(Self.claims(aud: "herald")), "wrong issuer")
            try await Self.expectRefused(
                server, try await server.minter.mint(Self.claims(iss: "6fb", aud: "other")), "wrong audience")
            let skewed = try await server.minter.mint(Self.claims(exp: -10, iss: "6fb", aud: "herald"))
            #expect(try await server.request(.GET, "/api/v1/notifications", token: skewed).status == .ok)
            try await Self.expectRefused(
                server, try await server.minter.mint(Self.claims(exp: -60, iss: "6fb", aud: "herald")), "token expired")
        }
    }

    @Test("RS256 with a PEM key and ES256 from a JWKS file; unknown kid refused")
    func publicKeyAlgorithms() async throws {
        let settings = [
            "JWT_PUBLIC_KEY_FILE": Self.fixtures.appendingPathComponent("rsa-public.pem").path,
            "JWT_JWKS_FILE": Self.fixtures.appendingPathComponent("jwks.json").path,
        ]
        try await TestServer.with(settings) { server in
            let rs = try await Self.rsaToken(Self.claims())
            #expect(try await server.request(.GET, "/api/v1/notifications", token: rs).status == .ok)
            let es = try await Self.ecToken(Self.claims(), kid: "ec-1")
            #expect(try await server.request(.GET, "/api/v1/notifications", token: es).status == .ok)
            try await Self.expectRefused(server, try await Self.ecToken(Self.claims(), kid: "ec-9"), "unknown key id")
            // HS256 still works alongside.
            #expect(try await server.request(.GET, "/api/v1/notifications", token: server.token("hs")).status == .ok)
        }
    }

    @Test("claims: numeric sub and locations, unknown roles are plain users")
    func claimShapes() async throws {
        let verifier = try await TokenVerifier.make(
            secret: TestServer.secret, publicKeyPEM: nil, jwksJSON: nil, issuer: nil, audience: nil, leeway: 0)
        let minter = await TokenMinter(secret: TestServer.secret)
        var claims = Self.claims("7")
        claims.locationID = "3"
        claims.locations = ["4", "3"]
        claims.role = "BARBER"
        claims.scope = "a notifications:publish"
        let principal = try verifier.verify(try await minter.mint(claims))
        #expect(principal.userID == "7")
        #expect(principal.locations == ["3", "4"])
        #expect(principal.role == .user)
        #expect(principal.publishesAnywhere)
        // A JSON number sub decodes to its decimal string.
        let numeric = try JSONDecoder().decode(
            HeraldClaims.self, from: Data(#"{"sub":12,"exp":1,"location_id":5,"locations":[6]}"#.utf8))
        #expect(numeric.sub == "12" && numeric.allLocations == ["5", "6"])
    }
}
