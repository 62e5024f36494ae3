import ArgumentParser

/// What every scenario needs: where the server is, its secret, and where to write the result.
struct CommonOptions: ParsableArguments {
    @Option(help: "Ports of the instances under test (repeat for several).") var port: [Int] = [8000]
    @Option(help: "The server's JWT_SECRET (ignored by the baseline).") var secret =
        "bench-secret-0123456789abcdef-0123456789"
    @Option(help: "Pid of the server process, for memory and CPU (first instance).") var serverPid: Int32?
    @Option(help: "herald or baseline, recorded in the result.") var target = "herald"
    @Option(help: "JSON result file.") var output: String?
    @Option(help: "Scenario name recorded in the result, when it differs from the command's.") var scenario: String?
}
