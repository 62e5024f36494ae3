import Crypto
import Foundation
import Testing

@testable import HeraldServer

/// The pieces ``TokenVerifier`` now runs itself around jwt-kit's signature check: the strict base64url of each
/// part, and the claims read from parsed JSON. A token a client gets refused for must be refused for the reason
/// named, and one that was accepted before must still be.
@Suite("Token reading")
struct TokenReadingTests {
    static let secret = "unit-secret-0123456789abcdef-0123456789"

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test("base64url: every length decodes as Foundation does; padding, the other alphabet and stray bits do not")
    func base64URL() {
        var random = SystemRandomNumberGenerator()
        for length in 0..<70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            #expect(Base64URL.decode(Array(Self.base64URL(bytes).utf8)) == bytes, "\(bytes)")
        }
        for refused in ["QQ==", "QQ=", "a+b/", "abcde", "QR", "QUJ", "é", "ab.c"] {
            #expect(Base64URL.decode(Array(refused.utf8)) == nil, "\(refused)")
        }
        #expect(Base64URL.decode(Array("QQ".utf8)) == Array("A".utf8))
        #expect(Base64URL.decode(Array("QUI".utf8)) == Array("AB".utf8))
    }

    @Test("claims: each type a claim may take, null as absent, and the reason for each wrong type")
    func claims() throws {
        let read = { (text: String) throws -> HeraldClaims in
            try HeraldClaims(json: try #require(JSONValue.parse(Array(text.utf8))))
        }
        let full = try read(
            #"{"sub":12,"exp":1.5e9,"nbf":null,"iat":3,"iss":"i","aud":"a","location_id":5,"locations":["6",7],"#
                + #""role":"admin","scope":["a","b"],"unknown":{"x":1}}"#)
        #expect(full.sub == "12" && full.exp == 1.5e9 && full.nbf == nil && full.iat == 3 && full.iss == "i")
        #expect(full.aud == ["a"] && full.allLocations == ["5", "6", "7"] && full.role == "admin")
        #expect(full.scope == "a b")
        #expect(try read(#"{"aud":["a","b"],"scope":"x y"}"#).aud == ["a", "b"])
        for wrong in [
            #"[]"#, #"{"sub":true}"#, #"{"exp":"1"}"#, #"{"iss":5}"#, #"{"aud":[1]}"#, #"{"aud":{}}"#,
            #"{"locations":"a"}"#, #"{"locations":[null]}"#, #"{"role":1}"#, #"{"scope":[true]}"#,
        ] {
            #expect(throws: HeraldClaims.ClaimError.self, "\(wrong)") { try read(wrong) }
        }
        // jwt-kit's Decodable route (used when it mints) reads the same way.
        let decoded = try JSONDecoder().decode(HeraldClaims.self, from: Data(#"{"sub":12,"locations":[6]}"#.utf8))
        #expect(decoded.sub == "12" && decoded.locations == ["6"])
    }

    @Test("HS256 verifies on the caller's thread; a valid signature over unreadable claims is a malformed token")
    func verification() async throws {
        let verifier = try await TokenVerifier.make(
            secret: Self.secret, publicKeyPEM: nil, jwksJSON: nil, issuer: nil, audience: nil, leeway: 0)
        let minter = await TokenMinter(secret: Self.secret)
        let exp = Date().timeIntervalSince1970 + 600
        let token = try await minter.mint(HeraldClaims(sub: "u", exp: exp, locations: ["L"]))
        let principal = try verifier.verify(token)
        #expect(principal.userID == "u" && principal.locations == ["L"])

        // Sign a payload that is not readable claims with the same secret: the signature holds, the claims do not.
        let header = Self.base64URL(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        for payload in [#"{"sub":"u","exp":"soon"}"#, #"not json"#, #"{"sub":"u","exp":1e400}"#] {
            let signed = header + "." + Self.base64URL(Array(payload.utf8))
            let mac = HMAC<SHA256>.authenticationCode(
                for: Array(signed.utf8), using: SymmetricKey(data: Array(Self.secret.utf8)))
            let forged = signed + "." + Self.base64URL(Array(mac))
            #expect(throws: HeraldError.unauthorized("malformed token"), "\(payload)") {
                try verifier.verify(forged)
            }
        }
        // The same payload with its signature altered is refused for the signature, before the claims are read.
        // The first character is the one altered: all six of its bits are the signature's, where the last one of
        // 32 bytes carries four, and an 'A' made a 'B' there is no longer canonical base64url (one run in 16 ended
        // as "malformed token").
        let parts = token.split(separator: ".")
        let signature = parts[2]
        let first: String = signature.first == "A" ? "B" : "A"
        let altered = "\(parts[0]).\(parts[1]).\(first)\(signature.dropFirst())"
        #expect(throws: HeraldError.unauthorized("invalid signature")) { try verifier.verify(String(altered)) }
        // Padding on the signature is not base64url.
        #expect(throws: HeraldError.unauthorized("malformed token")) { try verifier.verify(token + "=") }
    }
}
