/// A strict reader of the Prometheus text format (0.0.4): every line must be a `# HELP`/`# TYPE` comment or a
/// sample `name{label="value",...} number`, or reading fails, so a test that reads `/metrics` also checks that a
/// Prometheus server could scrape it.
struct PrometheusText {
    struct ParseError: Error, CustomStringConvertible {
        let line: String
        var description: String { "not Prometheus text: \(line)" }
    }

    /// Sample values by `name{labels}` exactly as written, and the declared type of each family.
    private(set) var samples: [String: Double] = [:]
    private(set) var types: [String: String] = [:]

    init(_ text: String) throws {
        for line in text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) {
            if line.hasPrefix("# HELP ") { continue }
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                guard parts.count == 4, ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[3])
                else { throw ParseError(line: line) }
                types[String(parts[2])] = String(parts[3])
                continue
            }
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                throw ParseError(line: line)
            }
            let series = String(line[..<space])
            guard Self.isValidSeries(series) else { throw ParseError(line: line) }
            samples[series] = value
        }
    }

    /// `name` or `name{label="value",...}` with a valid metric name and quoted label values.
    private static func isValidSeries(_ series: String) -> Bool {
        let name = series.prefix { $0 != "{" }
        guard let first = name.first, first.isLetter || first == "_" || first == ":",
            name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" })
        else { return false }
        let rest = series.dropFirst(name.count)
        if rest.isEmpty { return true }
        guard rest.hasPrefix("{"), rest.hasSuffix("}") else { return false }
        let labels = rest.dropFirst().dropLast()
        return labels.isEmpty
            || labels.split(separator: ",").allSatisfy { pair in
                let halves = pair.split(separator: "=", maxSplits: 1)
                return halves.count == 2 && halves[1].hasPrefix("\"") && halves[1].hasSuffix("\"")
            }
    }

    /// The value of `series` (`name{labels}` as rendered), or 0 when absent.
    subscript(_ series: String) -> Double { samples[series] ?? 0 }
}
