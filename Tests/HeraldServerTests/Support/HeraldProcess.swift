import Foundation
import HeraldServer
import NIOConcurrencyHelpers

/// The real `herald serve` binary as a child process, for what only a process can show: signals and exit codes.
final class HeraldProcess: Sendable {
    let process: Process
    let port: Int
    private let output: NIOLockedValueBox<String>

    private init(process: Process, port: Int, output: NIOLockedValueBox<String>) {
        self.process = process
        self.port = port
        self.output = output
    }

    static var binary: URL { TestCluster.packageRoot.appendingPathComponent(".build/debug/herald") }

    static func start(database: String, settings: [String: String] = [:]) async throws -> HeraldProcess {
        let process = Process()
        process.executableURL = binary
        process.arguments = ["serve"]
        var environment = ProcessInfo.processInfo.environment
        environment.merge(
            [
                "DATABASE_URL": try TestCluster.url(database: database), "JWT_SECRET": TestServer.secret, "PORT": "0",
                "LOG_FORMAT": "json", "LOG_LEVEL": "info", "DATABASE_POOL_SIZE": "4",
            ], uniquingKeysWith: { _, new in new })
        environment.merge(settings, uniquingKeysWith: { _, new in new })
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        let output = NIOLockedValueBox("")
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let text = String(decoding: handle.availableData, as: UTF8.self)
            output.withLockedValue { $0 += text }
        }
        try process.run()
        for _ in 0..<1500 {
            let logs = output.withLockedValue { $0 }
            if let line = logs.split(separator: "\n").first(where: { $0.contains("herald listening") }),
                let value = JSONValue.parse(Array(line.utf8))?["port"]?.stringValue, let port = Int(value)
            {
                return HeraldProcess(process: process, port: port, output: output)
            }
            if !process.isRunning { throw TestSetupError("herald exited: \(logs)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        process.terminate()
        throw TestSetupError("herald did not start: \(output.withLockedValue { $0 })")
    }

    var logs: String { output.withLockedValue { $0 } }

    /// Sends `signal` and waits for the exit status.
    func stop(signal: Int32 = SIGTERM, timeout: Double = 15) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard !process.isRunning else {
            process.terminate()
            throw TestSetupError("herald still running \(timeout)s after signal \(signal)")
        }
        return process.terminationStatus
    }
}
