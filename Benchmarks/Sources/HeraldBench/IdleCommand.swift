import ArgumentParser
import Foundation

/// Scenario 1: N authenticated sockets, held. The server's RSS delta per socket, and the connect rate.
struct IdleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "idle", abstract: "Hold N idle sockets.")

    @OptionGroup var common: CommonOptions
    @Option var sockets = 10_000
    @Option(help: "Seconds to hold them before measuring.") var hold = 5.0

    func run() async throws {
        let probe = common.serverPid.map(ServerProbe.init)
        let before = probe?.residentKilobytes ?? 0
        let cpuBefore = probe?.cpuSeconds ?? 0
        let crowd = try Crowd(sockets: sockets, ports: common.port, secret: common.secret, location: "idle")
        let connect = crowd.connectSeconds
        // The server's own CPU for the connects: steadier than their wall time, which the client processes on the
        // same cores share.
        let cpuForConnects = (probe?.cpuSeconds ?? 0) - cpuBefore
        try await Task.sleep(for: .seconds(hold))
        let after = probe?.residentKilobytes ?? 0
        let open = crowd.openSockets
        crowd.stop()
        var figures: [String: Any] = [
            "sockets": open, "failed": crowd.failedSockets, "connect_seconds": connect,
            "connects_per_second": Double(open) / max(connect, 0.001),
        ]
        if probe != nil {
            figures["rss_before_kb"] = before
            figures["rss_after_kb"] = after
            figures["kb_per_socket"] = Double(after - before) / Double(max(open, 1))
            figures["server_cpu_ms_per_connect"] = cpuForConnects * 1000 / Double(max(open, 1))
        }
        try ResultWriter.write("idle", target: common.target, figures, output: common.output)
    }
}
