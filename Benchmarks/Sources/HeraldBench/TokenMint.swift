import Crypto
import Foundation

/// HS256 tokens with Herald's claims, minted here so a run needs nothing but the server's `JWT_SECRET`.
struct TokenMint: Sendable {
    let secret: Data

    init(secret: String) {
        self.secret = Data(secret.utf8)
    }

    func token(sub: String, locations: [String], role: String = "user", ttl: Double = 7200) -> String {
        let header = Self.base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))
        let list = locations.map { "\"\($0)\"" }.joined(separator: ",")
        let exp = Int(Date().timeIntervalSince1970 + ttl)
        let claims = #"{"sub":"\#(sub)","locations":[\#(list)],"role":"\#(role)","exp":\#(exp)}"#
        let body = header + "." + Self.base64URL(Data(claims.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: secret))
        return body + "." + Self.base64URL(Data(signature))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
