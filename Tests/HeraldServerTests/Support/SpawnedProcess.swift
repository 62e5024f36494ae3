import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which the Glibc module does not import.
@_silgen_name("posix_spawn_file_actions_addclosefrom_np")
private func spawnCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32

/// Starts a child with posix_spawn, its stderr going to a file. Foundation's `Process` forks inside a busy,
/// many-threaded test runner and was seen to hang there; posix_spawn is safe in that setting.
struct SpawnedProcess: Sendable {
    let pid: pid_t
    let logPath: String

    static func spawn(_ executable: String, _ arguments: [String], environment: [String: String]) throws
        -> SpawnedProcess
    {
        let logPath = NSTemporaryDirectory() + "herald-\(UUID().uuidString).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Nothing else of the test runner's: a PostgreSQL started with a thousand inherited sockets refuses to
        // start ("insufficient file descriptors"), and a Herald child would hold the runner's sockets open.
        spawnCloseFrom(&actions, 3)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard status == 0 else { throw TestSetupError("posix_spawn failed: \(status)") }
        return SpawnedProcess(pid: pid, logPath: logPath)
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The exit status if the child has exited (reaping it), else nil.
    func exitStatus() -> Int32? {
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        guard result == pid else { return nil }
        if status & 0x7F == 0 { return (status >> 8) & 0xFF }
        return 128 + (status & 0x7F)
    }
}
