import Foundation
import HeraldServer
import NIOConcurrencyHelpers

/// The real `herald serve` binary as a child process, for what only a process can show: signals and exit codes.
final class HeraldProcess: Sendable {
    let child: SpawnedProcess
    let port: Int
    private let exited = NIOLockedValueBox<Int32?>(nil)

    private init(child: SpawnedProcess, port: Int) {
        self.child = child
        self.port = port
    }

    static var binary: URL { TestCluster.packageRoot.appendingPathComponent(".build/debug/herald") }

    /// Starts `herald serve`; with `openFiles`, under that open-file limit (prlimit execs it, so the pid is
    /// Herald's).
    static func start(
        database: String, settings: [String: String] = [:], openFiles: Int? = nil
    ) async throws -> HeraldProcess {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(
            [
                "DATABASE_URL": try TestCluster.url(database: database), "JWT_SECRET": TestServer.secret, "PORT": "0",
                "LOG_FORMAT": "json", "LOG_LEVEL": "info", "DATABASE_POOL_SIZE": "4",
            ], uniquingKeysWith: { _, new in new })
        environment.merge(settings, uniquingKeysWith: { _, new in new })
        let child =
            if let openFiles {
                try SpawnedProcess.spawn(
                    "/usr/bin/prlimit", ["--nofile=\(openFiles):\(openFiles)", binary.path, "serve"],
                    environment: environment)
            } else {
                try SpawnedProcess.spawn(binary.path, ["serve"], environment: environment)
            }
        for _ in 0..<1500 {
            let logs = child.log
            if let line = logs.split(separator: "\n").first(where: { $0.contains("herald listening") }),
                let value = JSONValue.parse(Array(line.utf8))?["port"]?.stringValue, let port = Int(value)
            {
                return HeraldProcess(child: child, port: port)
            }
            if let status = child.exitStatus() { throw TestSetupError("herald exited with \(status): \(logs)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        kill(child.pid, SIGKILL)
        _ = child.exitStatus()
        throw TestSetupError("herald did not start: \(child.log)")
    }

    var logs: String { child.log }

    /// Sends `signal` and waits for the exit status.
    func stop(signal: Int32 = SIGTERM, timeout: Double = 15) async throws -> Int32 {
        kill(child.pid, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = child.exitStatus() { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(child.pid, SIGKILL)
        _ = child.exitStatus()
        throw TestSetupError("herald still running \(timeout)s after signal \(signal)")
    }
}
