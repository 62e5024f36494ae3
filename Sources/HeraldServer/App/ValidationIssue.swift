/// One entry of a FastAPI-style 422 body: `{"loc": [...], "msg": ..., "type": ...}`.
public struct ValidationIssue: Sendable, Equatable {
    /// A `loc` step: a field name or an array index.
    public enum Step: Sendable, Equatable {
        case name(String)
        case index(Int)
    }

    public var loc: [Step]
    public var msg: String
    public var type: String

    public init(_ loc: [Step], _ msg: String, type: String) {
        self.loc = loc
        self.msg = msg
        self.type = type
    }

    /// An issue located in the request body, e.g. `["body", "title"]`.
    public static func body(_ field: String, _ msg: String, type: String) -> ValidationIssue {
        ValidationIssue([.name("body"), .name(field)], msg, type: type)
    }

    /// An issue located in the query string, e.g. `["query", "limit"]`.
    public static func query(_ field: String, _ msg: String, type: String) -> ValidationIssue {
        ValidationIssue([.name("query"), .name(field)], msg, type: type)
    }

    public func write(to writer: inout JSONWriter) {
        writer.beginObject()
        writer.key("loc")
        writer.beginArray()
        for step in loc {
            switch step {
            case .name(let name): writer.string(name)
            case .index(let index): writer.int(index)
            }
        }
        writer.endArray()
        writer.key("msg")
        writer.string(msg)
        writer.key("type")
        writer.string(type)
        writer.endObject()
    }
}
