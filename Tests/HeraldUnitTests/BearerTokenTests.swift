import Testing

@testable import HeraldServer

/// `Authorization: Bearer <token>` as clients send it, and what is not one.
@Suite("Bearer header")
struct BearerTokenTests {
    @Test("the scheme in any case; spaces and tabs around the token dropped; the token's own bytes kept")
    func accepted() throws {
        #expect(try BearerAuthenticator.token(authorization: "Bearer a.b.c") == "a.b.c")
        #expect(try BearerAuthenticator.token(authorization: "bearer   a.b.c \t") == "a.b.c")
        #expect(try BearerAuthenticator.token(authorization: "BeArEr \ta.b.c") == "a.b.c")
        #expect(try BearerAuthenticator.token(authorization: "  Bearer x y") == "x y")
        #expect(try BearerAuthenticator.token(authorization: "Bearer é.ü") == "é.ü")
    }

    @Test("another scheme, a scheme alone, a scheme run into the token: refused as the wrong scheme")
    func refused() {
        for header in ["Basic dXNlcjpwYXNz", "Bearer", "Bearer  \t ", "Bearerx.y.z", "Bearer_ x", "", "Bëarer x"] {
            #expect(throws: HeraldError.unauthorized("Invalid authentication scheme"), "\(header)") {
                try BearerAuthenticator.token(authorization: header)
            }
        }
    }
}
