import Testing

@testable import HeraldServer

/// `DATABASE_URL`'s TLS default: plain on loopback, TLS when offered elsewhere (issue 15); no password in logs.
@Suite("Database URL")
struct DatabaseURLTests {
    @Test(
        "sslmode defaults to disable on loopback and prefer elsewhere; explicit modes win",
        arguments: [
            ("postgres://u:p@127.0.0.1:5433/db", "disable"), ("postgres://u@localhost/db", "disable"),
            ("postgres://u@[::1]:5432/db", "disable"), ("postgres://u@db.internal:5432/db", "prefer"),
            ("postgres://u@10.0.0.7/db", "prefer"), ("postgres://u@db.internal/db?sslmode=disable", "disable"),
            ("postgres://u@127.0.0.1/db?sslmode=require", "require"),
            ("postgres://u@db.internal/db?sslmode=verify-full", "verify"),
        ])
    func tlsDefaults(url: String, mode: String) throws {
        #expect(try DatabaseURL.tlsMode(url) == mode)
    }

    @Test("the target named in logs leaves the password out")
    func target() {
        #expect(
            DatabaseURL.target("postgres://herald:s3cret@db.internal:6543/inbox") == "herald@db.internal:6543/inbox")
    }

    @Test("connection limits follow REQUEST_TIMEOUT")
    func timeouts() {
        let timeouts = DatabaseTimeouts(requestTimeout: 5)
        #expect(timeouts.statement == .seconds(4))
        #expect(timeouts.lock == .seconds(2))
        #expect(timeouts.idleInTransaction == .seconds(10))
    }
}
