import Foundation
import Vapor

/// Reads query parameters with FastAPI's validation messages (`loc: ["query", name]`).
struct QueryParameters {
    let items: [URLQueryItem]

    init(_ request: Request) {
        self.init(query: request.url.query.map { $0[...] })
    }

    /// From a query as sent, still percent-encoded. One that is not a valid query (a stray `%`, a space) has no
    /// parameters, as Vapor reads it: `URLComponents(string:)` refuses it where its `percentEncodedQuery` setter
    /// would trap.
    init(query: Substring?) {
        items = query.flatMap { URLComponents(string: "?" + $0)?.queryItems } ?? []
    }

    func raw(_ name: String) -> String? {
        items.last(where: { $0.name == name })?.value
    }

    func integer(_ name: String, in range: ClosedRange<Int>, _ issues: inout [ValidationIssue]) -> Int? {
        guard let text = raw(name) else { return nil }
        guard let value = Int(text) else {
            issues.append(.query(name, "Input should be a valid integer", type: "int_parsing"))
            return nil
        }
        if value < range.lowerBound {
            issues.append(
                .query(name, "Input should be greater than or equal to \(range.lowerBound)", type: "greater_than_equal")
            )
            return nil
        }
        if value > range.upperBound {
            issues.append(
                .query(name, "Input should be less than or equal to \(range.upperBound)", type: "less_than_equal"))
            return nil
        }
        return value
    }

    func boolean(_ name: String, _ issues: inout [ValidationIssue]) -> Bool? {
        guard let text = raw(name)?.lowercased() else { return nil }
        switch text {
        case "true", "1", "yes", "on", "t", "y": return true
        case "false", "0", "no", "off", "f", "n": return false
        default:
            issues.append(.query(name, "Input should be a valid boolean", type: "bool_parsing"))
            return nil
        }
    }

    func string(_ name: String, maxLength: Int, _ issues: inout [ValidationIssue]) -> String? {
        guard let text = raw(name) else { return nil }
        if text.isEmpty || text.unicodeScalars.count > maxLength || text.utf8.contains(0) {
            issues.append(.query(name, "String should have 1 to \(maxLength) characters", type: "string_type"))
            return nil
        }
        return text
    }
}
