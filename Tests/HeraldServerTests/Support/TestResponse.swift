import HeraldServer
import NIOHTTP1

/// What a live server answered.
struct TestResponse: Sendable {
    let status: HTTPResponseStatus
    let headers: HTTPHeaders
    let body: String

    var json: JSONValue? { JSONValue.parse(Array(body.utf8)) }

    /// `detail` of an error body when it is a string.
    var detail: String? { json?["detail"]?.stringValue }

    /// The `[loc, type]` pairs of a 422 body, loc joined with dots.
    var issues: [String] {
        guard case .array(let entries)? = json?["detail"] else { return [] }
        return entries.map { entry in
            let loc: [String]
            if case .array(let steps)? = entry["loc"] {
                loc = steps.map { $0.stringValue ?? $0.int64Value.map(String.init) ?? "?" }
            } else {
                loc = []
            }
            return loc.joined(separator: ".") + ":" + (entry["type"]?.stringValue ?? "?")
        }
    }

    /// The items of a list response.
    var items: [JSONValue] {
        if case .array(let items)? = json { return items }
        return []
    }

    var ids: [Int64] { items.compactMap { $0["id"]?.int64Value } }
}
