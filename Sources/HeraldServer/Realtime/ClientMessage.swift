/// A client frame (docs/protocol.md), parsed and checked. A frame that fails is answered with an `error` frame and the
/// socket stays open.
package enum ClientMessage: Equatable {
    case ping
    case subscribe([String])
    case unsubscribe([String])
    case ack([Int64])
    case resume(Int64)
    case auth(String)

    static let maxAckIDs = 1000
    static let maxEventTypes = 100

    /// Parses `text`, or throws a ``FrameError`` saying what is wrong.
    package static func parse(_ text: String) throws(FrameError) -> ClientMessage {
        guard let value = JSONValue.parse(Array(text.utf8)) else {
            throw FrameError(code: .invalidJSON, detail: "invalid JSON")
        }
        guard value.objectValue != nil else {
            throw FrameError(code: .badRequest, detail: "a message must be a JSON object")
        }
        guard let type = value["type"]?.stringValue else { throw field("type", "is required and must be a string") }
        switch type {
        case "ping":
            return .ping
        case "subscribe", "unsubscribe":
            var types: [String] = []
            if let single = value["event_type"], !single.isNull {
                guard let name = single.stringValue, Self.isEventType(name) else {
                    throw field("event_type", "must be a string of 1 to 64 characters")
                }
                types.append(name)
            }
            if let many = value["event_types"], !many.isNull {
                guard case .array(let names) = many, names.count <= maxEventTypes else {
                    throw field("event_types", "must be an array of at most \(maxEventTypes) strings")
                }
                for name in names {
                    guard let name = name.stringValue, Self.isEventType(name) else {
                        throw field("event_types", "must hold strings of 1 to 64 characters")
                    }
                    types.append(name)
                }
            }
            guard !types.isEmpty else { throw field("event_type", "or event_types is required") }
            return type == "subscribe" ? .subscribe(types) : .unsubscribe(types)
        case "ack":
            guard case .array(let values)? = value["ids"], !values.isEmpty, values.count <= maxAckIDs else {
                throw field("ids", "must be an array of 1 to \(maxAckIDs) ids")
            }
            let ids = values.compactMap(\.int64Value)
            guard ids.count == values.count else { throw field("ids", "must hold integers") }
            return .ack(ids)
        case "resume":
            guard let since = value["since"]?.int64Value, since >= 0 else {
                throw field("since", "must be a non-negative integer")
            }
            return .resume(since)
        case "auth":
            guard let token = value["token"]?.stringValue, !token.isEmpty else {
                throw field("token", "is required and must be a string")
            }
            return .auth(token)
        default:
            throw FrameError(code: .unknownType, detail: "unknown message type '\(String(type.prefix(32)))'")
        }
    }

    private static func isEventType(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64
    }

    private static func field(_ name: String, _ problem: String) -> FrameError {
        .field(name, problem)
    }

    /// The message's type, for `herald_messages_in_total`.
    var kind: SocketCounters.Inbound {
        switch self {
        case .ping: .ping
        case .subscribe: .subscribe
        case .unsubscribe: .unsubscribe
        case .ack: .ack
        case .resume: .resume
        case .auth: .auth
        }
    }
}
