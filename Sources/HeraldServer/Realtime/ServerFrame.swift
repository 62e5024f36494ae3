import NIOCore

/// The server-to-client messages (docs/protocol.md), each serialised once into bytes that any number of sockets share.
enum ServerFrame {
    static func make(_ type: String, _ members: (inout JSONWriter) -> Void) -> ByteBuffer {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("type")
        writer.string(type)
        members(&writer)
        writer.endObject()
        return writer.buffer
    }

    static func connection(
        sessionID: String, principal: Principal, heartbeatInterval: Double
    ) -> ByteBuffer {
        make("connection") { writer in
            writer.key("status")
            writer.string("connected")
            writer.key("message")
            writer.string("Connected to notification service")
            writer.key("session_id")
            writer.string(sessionID)
            writer.key("user_id")
            writer.string(principal.userID)
            writer.key("locations")
            writer.strings(principal.locations)
            writer.key("heartbeat_interval")
            if heartbeatInterval == heartbeatInterval.rounded() {
                writer.int(Int(heartbeatInterval))
            } else {
                writer.double(heartbeatInterval)
            }
            writer.key("timestamp")
            writer.string(Timestamp.string())
        }
    }

    static func pong() -> ByteBuffer {
        make("pong") { writer in
            writer.key("timestamp")
            writer.string(Timestamp.string())
        }
    }

    static func notification(id: Int64, type: String, itemJSON: String) -> ByteBuffer {
        make("notification") { writer in
            writer.key("notification_type")
            writer.string(type)
            writer.key("id")
            writer.int(id)
            writer.key("data")
            writer.raw(itemJSON)
            writer.key("timestamp")
            writer.string(Timestamp.string())
        }
    }

    static func notification(_ item: InboxItem) -> ByteBuffer {
        var writer = JSONWriter(reservingCapacity: 512)
        item.write(to: &writer)
        return notification(id: item.id, type: item.type, itemJSON: writer.string)
    }

    static func event(type: String, dataJSON: String) -> ByteBuffer {
        make("event") { writer in
            writer.key("event_type")
            writer.string(type)
            writer.key("data")
            writer.raw(dataJSON)
            writer.key("timestamp")
            writer.string(Timestamp.string())
        }
    }

    static func inbox(unreadCount: Int, reason: InboxChange.Reason, ids: [Int64], lastID: Int64?) -> ByteBuffer {
        make("inbox") { writer in
            writer.key("unread_count")
            writer.int(unreadCount)
            writer.key("reason")
            writer.string(reason.rawValue)
            writer.key("ids")
            writer.ints(ids)
            if let lastID {
                writer.key("last_id")
                writer.int(lastID)
            }
        }
    }

    static func reset(_ detail: String) -> ByteBuffer {
        make("reset") { writer in
            writer.key("detail")
            writer.string(detail)
        }
    }

    static func error(code: String, detail: String) -> ByteBuffer {
        make("error") { writer in
            writer.key("code")
            writer.string(code)
            writer.key("detail")
            writer.string(detail)
        }
    }

    static func subscribed(_ types: [String]) -> ByteBuffer {
        make("subscribed") { writer in
            writer.key("event_types")
            writer.strings(types)
        }
    }

    static func authOK(exp: Double) -> ByteBuffer {
        make("auth_ok") { writer in
            writer.key("exp")
            writer.int(Int64(exp))
        }
    }
}
