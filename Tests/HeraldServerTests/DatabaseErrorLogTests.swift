import Foundation
import HeraldServer
import Testing

/// An operator whose `DATABASE_URL` is wrong reads why in one line: PostgreSQL's code and message, or the
/// connection problem, and the target, never postgres-nio's "Generic description" and never the password.
@Suite("Database errors in logs")
struct DatabaseErrorLogTests {
    /// Runs `herald migrate` against `url`; returns its exit status and what it printed.
    static func migrate(_ url: String) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = url
        environment["MIGRATIONS_DIR"] = TestCluster.packageRoot.appendingPathComponent("Migrations").path
        let child = try SpawnedProcess.spawn(HeraldProcess.binary.path, ["migrate"], environment: environment)
        for _ in 0..<1000 {
            if let status = child.exitStatus() { return (status, child.log) }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(child.pid, SIGKILL)
        throw TestSetupError("herald migrate did not exit: \(child.log)")
    }

    @Test("a wrong password: the server's code and message, the target, no password")
    func wrongPassword() async throws {
        let port = try TestCluster.port
        let (status, output) = try await Self.migrate(
            "postgres://herald_password:not-the-password@127.0.0.1:\(port)/postgres")
        #expect(status == 2)
        #expect(output.contains("SQLSTATE 28P01"), "\(output)")
        #expect(output.contains("password authentication failed"), "\(output)")
        #expect(output.contains("herald_password@127.0.0.1:\(port)/postgres"), "\(output)")
        #expect(!output.contains("not-the-password"))
        #expect(!output.contains("Generic description"))
    }

    @Test("a refused port: the connection problem and the target, from migrate and from the listener")
    func refusedPort() async throws {
        let (status, output) = try await Self.migrate("postgres://herald:secret-pass@127.0.0.1:1/herald")
        #expect(status == 2)
        #expect(output.lowercased().contains("connection refused"), "\(output)")
        #expect(output.contains("herald@127.0.0.1:1/herald"), "\(output)")
        #expect(!output.contains("secret-pass") && !output.contains("Generic description"))

        let serve = try await HeraldProcess.start(
            database: "unused", settings: ["DATABASE_URL": "postgres://herald:secret-pass@127.0.0.1:1/herald"])
        var line: String?
        for _ in 0..<200 where line == nil {
            line = serve.logs.split(separator: "\n").first { $0.contains("listener cannot connect") }.map(String.init)
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = try await serve.stop()
        let logged = try #require(line)
        #expect(logged.lowercased().contains("connection refused"), "\(logged)")
        #expect(logged.contains("herald@127.0.0.1:1/herald"), "\(logged)")
        #expect(!serve.logs.contains("secret-pass") && !serve.logs.contains("Generic description"))
    }
}
