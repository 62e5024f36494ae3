import Foundation
import NIOConcurrencyHelpers

/// The sockets of a scenario, held by `worker` child processes: at most `perProcess` sockets each, each worker on
/// its own loopback source address, spread over the target instances in turn.
final class Crowd: @unchecked Sendable {
    struct Worker {
        let pid: pid_t
        let input: FileHandle
        let count: Int
    }

    private var workers: [Worker] = []
    private let lock = NIOLock()
    private var ready: [(open: Int, failed: Int, micros: Int64)] = []
    private var done: [Int64: (workers: Int, last: Int64)] = [:]
    private var reports: [Int] = []
    private var waiters: [Int64: CheckedContinuation<Int64?, Never>] = [:]
    /// Other answers (the soak's `churned` and `verified`), by their first word.
    private var answers: [String: [[String]]] = [:]

    /// Starts workers for `sockets` sockets over `ports` and waits until all are connected. `command` is the
    /// worker subcommand (`worker`, or the soak's `soak-worker`), given `options` besides the common ones.
    init(
        sockets: Int, ports: [Int], secret: String, location: String, prefix: String = "bench",
        perProcess: Int = 19_000, path: String = "/api/v1/ws", command: String = "worker", options: [String] = []
    ) throws {
        let processes = max(1, (sockets + perProcess - 1) / perProcess)
        var first = 0
        for index in 0..<processes {
            let count = sockets / processes + (index < sockets % processes ? 1 : 0)
            let arguments =
                [
                    command, "--port", "\(ports[index % ports.count])", "--source", "127.0.0.\(2 + index)", "--secret",
                    secret, "--prefix", prefix, "--first", "\(first)", "--count", "\(count)", "--location", location,
                    "--path", path,
                ] + options
            workers.append(try spawn(arguments, count: count))
            first += count
        }
        while lock.withLock({ ready.count }) < workers.count { usleep(10_000) }
    }

    var openSockets: Int { lock.withLock { ready.map(\.open).reduce(0, +) } }
    var failedSockets: Int { lock.withLock { ready.map(\.failed).reduce(0, +) } }
    /// The slowest worker's connect time, in seconds (workers connect in parallel).
    var connectSeconds: Double { lock.withLock { Double(ready.map(\.micros).max() ?? 0) / 1e6 } }

    /// Waits until every worker reported notification `id` complete; returns the last receipt's microseconds, or
    /// `nil` after `timeout`. The reader threads resume the waiter, so nothing polls.
    func completion(of id: Int64, timeout: Double = 30) async -> Int64? {
        let timer = Task {
            try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
            resume(id, with: nil)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let finished: Int64? = lock.withLock {
                if let entry = done[id], entry.workers == workers.count { return entry.last }
                waiters[id] = continuation
                return nil
            }
            if let finished { continuation.resume(returning: finished) }
        }
    }

    private func resume(_ id: Int64, with value: Int64?) {
        let waiter = lock.withLock { waiters.removeValue(forKey: id) }
        waiter?.resume(returning: value)
    }

    /// Messages the crowd received since the last call.
    func deliveries() -> Int {
        let before = lock.withLock { reports.count }
        for worker in workers { worker.input.write(Data("report\n".utf8)) }
        while lock.withLock({ reports.count }) < before + workers.count { usleep(1000) }
        return lock.withLock { reports[before...].reduce(0, +) }
    }

    /// Sends `line` to every worker and waits for each one's answer starting with `answer`; returns the answers'
    /// remaining words.
    func ask(_ line: String, answer: String) -> [[String]] {
        let before = lock.withLock { answers[answer]?.count ?? 0 }
        for worker in workers { worker.input.write(Data((line + "\n").utf8)) }
        while lock.withLock({ answers[answer]?.count ?? 0 }) < before + workers.count { usleep(10_000) }
        return lock.withLock { Array(answers[answer]![before...]) }
    }

    func stop() {
        for worker in workers {
            worker.input.write(Data("quit\n".utf8))
            var status: Int32 = 0
            waitpid(worker.pid, &status, 0)
        }
    }

    private func spawn(_ arguments: [String], count: Int) throws -> Worker {
        var toChild: [Int32] = [0, 0]
        var fromChild: [Int32] = [0, 0]
        // Close-on-exec, so a later worker does not inherit this one's stdin: a worker quits when its stdin
        // reaches end of file, which an inherited write end would postpone forever, past this process's death.
        pipe(&toChild)
        pipe(&fromChild)
        for fd in toChild + fromChild { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_adddup2(&actions, toChild[0], 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild[1], 1)
        let executable =
            CommandLine.arguments[0].hasPrefix("/")
            ? CommandLine.arguments[0] : FileManager.default.currentDirectoryPath + "/" + CommandLine.arguments[0]
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        posix_spawn_file_actions_destroy(&actions)
        close(toChild[0])
        close(fromChild[1])
        guard status == 0 else { throw BenchError("could not start a worker: \(status)") }
        let output = FileHandle(fileDescriptor: fromChild[0], closeOnDealloc: true)
        Thread.detachNewThread { [self] in read(output) }
        return Worker(pid: pid, input: FileHandle(fileDescriptor: toChild[1], closeOnDealloc: true), count: count)
    }

    /// Reads one worker's lines until it exits.
    private func read(_ output: FileHandle) {
        var pending = Data()
        while true {
            let chunk = output.availableData
            if chunk.isEmpty { return }
            pending.append(chunk)
            while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[pending.startIndex..<newline], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...newline)
                handle(line.split(separator: " ").map(String.init))
            }
        }
    }

    private func handle(_ parts: [String]) {
        lock.withLock {
            switch parts.first {
            case "ready" where parts.count == 4:
                ready.append((Int(parts[1]) ?? 0, Int(parts[2]) ?? 0, Int64(parts[3]) ?? 0))
            case "done" where parts.count == 3:
                guard let id = Int64(parts[1]), let last = Int64(parts[2]) else { return }
                let old = done[id] ?? (0, 0)
                let now = (old.workers + 1, max(old.last, last))
                done[id] = now
                if now.0 == workers.count, let waiter = waiters.removeValue(forKey: id) {
                    waiter.resume(returning: now.1)
                }
            case "report" where parts.count == 2:
                reports.append(Int(parts[1]) ?? 0)
            case let word?:
                answers[word, default: []].append(Array(parts.dropFirst()))
            case nil:
                break
            }
        }
    }
}
