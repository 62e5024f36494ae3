import Foundation

/// Writes a scenario's figures as JSON under Benchmarks/results/ and prints them.
enum ResultWriter {
    static func write(_ scenario: String, target: String, _ figures: [String: Any], output: String?) throws {
        var document: [String: Any] = figures
        document["scenario"] = scenario
        document["target"] = target
        document["date"] = ISO8601DateFormatter().string(from: Date())
        document["cores"] = ProcessInfo.processInfo.activeProcessorCount
        let data = try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys])
        print(String(decoding: data, as: UTF8.self))
        if let output {
            try FileManager.default.createDirectory(
                atPath: (output as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: output))
        }
    }
}
