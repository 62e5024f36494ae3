import Foundation
import HeraldServer
import Testing

/// The REST matrix of bad tokens, on the WebSocket: each one gets close 4401 with the same reason, and not one
/// data frame before it.
@Suite("Tokens on the WebSocket")
struct RealtimeTokenTests {
    /// Connects with `token` (none at all when `nil`) and returns the close code and reason, and how many data
    /// frames came before the close.
    static func refusal(_ server: TestServer, _ token: String?) async throws -> (Int?, String?, Int) {
        let query = token.map { "token=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) }
        let socket = try await RawSocket.connect(port: server.app.port, query: query ?? "")
        let close = await socket.closeFrame()
        let data = socket.dataFrames
        socket.close()
        return (close?.code, close?.reason, data)
    }

    @Test("every refused token closes with 4401, its reason, and no data frame")
    func badTokensClose4401() async throws {
        try await TestServer.with { server in
            let matrix = try await TokenTests.refusedTokens(server)
            for (token, reason) in matrix {
                let (code, closeReason, dataFrames) = try await Self.refusal(server, token)
                #expect(code == 4401, "\(reason)")
                // REST keeps FastAPI's wording for a missing header; the socket names the missing parameter.
                #expect(closeReason == (token == nil ? "missing token" : reason), "\(reason)")
                #expect(dataFrames == 0, "\(reason)")
            }
            let metrics = try PrometheusText(try await server.request(.GET, "/metrics").body)
            #expect(metrics[#"herald_connects_total{result="unauthorized"}"#] == Double(matrix.count))
            #expect(metrics[#"herald_connects_total{result="accepted"}"#] == 0)
            // A good token on the same server is accepted, so the refusals are about the tokens.
            let good = try await TestSocket.open(server, token: try await server.token("tok"))
            await good.close()
        }
    }

    @Test("issuer, audience and unknown kid are refused on the socket as on REST")
    func configuredChecksClose4401() async throws {
        let settings = [
            "JWT_ISSUER": "6fb", "JWT_AUDIENCE": "herald",
            "JWT_JWKS_FILE": TokenTests.fixtures.appendingPathComponent("jwks.json").path,
        ]
        try await TestServer.with(settings) { server in
            for (token, reason) in [
                (try await server.minter.mint(TokenTests.claims(iss: "evil", aud: "herald")), "wrong issuer"),
                (try await server.minter.mint(TokenTests.claims(iss: "6fb", aud: "other")), "wrong audience"),
                (
                    try await TokenTests.ecToken(TokenTests.claims(iss: "6fb", aud: "herald"), kid: "ec-9"),
                    "unknown key id"
                ),
            ] {
                let (code, closeReason, dataFrames) = try await Self.refusal(server, token)
                #expect(code == 4401 && closeReason == reason && dataFrames == 0, "\(reason)")
            }
        }
    }
}
