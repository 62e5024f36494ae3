import HeraldServer

/// Verifies arbitrary text as a token with every algorithm family configured (HS256 and an ES256 JWKS), for the
/// token fuzz target and its regression test: whatever the input, the answer is a principal or a typed refusal.
public enum TokenReplay {
    static let secret = "fuzz-secret-0123456789abcdef-0123456789"
    static let jwks = #"""
        {"keys":[{"kty":"EC","crv":"P-256","kid":"ec-1","use":"sig","alg":"ES256",
        "x":"LYib5dy5hHLHFet9quaPd3wgXveNnMjl7zfgb_pUZk4","y":"H0KN6Si9r_qCv3ESlPmh4uhgxot4g3gLcPfKpept0Ww"}]}
        """#

    /// `true` if `token` verified, `false` if it was refused; any other outcome is a bug.
    @discardableResult
    public static func run(_ token: String) async -> Bool {
        guard
            let verifier = try? await TokenVerifier.make(
                secret: secret, publicKeyPEM: nil, jwksJSON: jwks, issuer: nil, audience: nil, leeway: 0)
        else { fatalError("the fuzz verifier could not be built") }
        do {
            _ = try verifier.verify(token)
            return true
        } catch is HeraldError {
            return false
        } catch {
            fatalError("verify threw an untyped error: \(error)")
        }
    }
}
