import Foundation
import HeraldServer
import NIOWebSocket
import Testing

/// The JSON protocol of docs/protocol.md over real sockets.
@Suite("WebSocket protocol")
struct RealtimeProtocolTests {
    @Test("connection frame, ping, and error frames that leave the socket usable")
    func connectPingAndErrors() async throws {
        try await TestServer.with { server in
            let socket = try await TestSocket.connect(
                port: server.app.port, token: try await server.token("p1", locations: ["7", "3"]))
            let hello = try await socket.next()
            #expect(hello["type"] == .string("connection"))
            #expect(hello["status"] == .string("connected"))
            #expect(hello["user_id"] == .string("p1"))
            #expect(hello["locations"] == .array([.string("3"), .string("7")]))
            #expect(hello["heartbeat_interval"] == .int(30))
            #expect(hello["session_id"]?.stringValue?.count == 36)
            #expect(hello["timestamp"]?.stringValue.flatMap(Timestamp.parse) != nil)
            #expect(hello["message"]?.stringValue != nil)

            try await socket.send(#"{"type":"ping"}"#)
            let pong = try await socket.next()
            #expect(pong["type"] == .string("pong") && pong["timestamp"] != nil)

            for (frame, code) in [
                ("not json", "invalid_json"), (#"{"type":"teleport"}"#, "unknown_type"), ("[1,2]", "bad_request"),
                (#"{"type":"ack","ids":"x"}"#, "invalid_field"), (#"{"type":"subscribe"}"#, "invalid_field"),
                (#"{"type":"resume","since":-4}"#, "invalid_field"), (#"{"no":"type"}"#, "invalid_field"),
            ] {
                try await socket.send(frame)
                let error = try await socket.next()
                #expect(error["type"] == .string("error"), "\(frame)")
                #expect(error["code"] == .string(code), "\(frame)")
                #expect(error["detail"]?.stringValue?.isEmpty == false)
            }
            socket.send(raw: [1, 2, 3], opcode: .binary)
            #expect(try await socket.next()["code"] == .string("bad_request"))
            // Still usable after all that.
            try await socket.send(#"{"type":"ping"}"#)
            #expect(try await socket.next()["type"] == .string("pong"))
            await socket.close()
        }
    }

    @Test("personal, location and broadcast notifications reach exactly the sockets that may see them")
    func targeting() async throws {
        try await TestServer.with { server in
            let atX = try await TestSocket.open(server, token: try await server.token("ux", locations: ["X"]))
            let atY = try await TestSocket.open(server, token: try await server.token("uy", locations: ["Y"]))
            let personal = try await server.publish(
                #"{"user_id":"ux","type":"booking","title":"p","message":"m","data":{"k":1}}"#)
            let location = try await server.publish(
                #"{"location_id":"X","type":"team_update","title":"l","message":"m"}"#)
            let broadcast = try await server.publish(#"{"broadcast":true,"type":"system","title":"b","message":"m"}"#)

            let first = try await atX.next("notification")
            #expect(first["id"]?.int64Value == personal[0])
            #expect(first["notification_type"] == .string("booking"))
            #expect(first["data"]?["title"] == .string("p"))
            #expect(first["data"]?["data"] == .object(["k": .int(1)]))
            #expect(first["data"]?["is_read"] == .bool(false))
            #expect(try await atX.next("notification")["id"]?.int64Value == location[0])
            #expect(try await atX.next("notification")["id"]?.int64Value == broadcast[0])
            #expect(try await atY.next("notification")["id"]?.int64Value == broadcast[0])
            try await Task.sleep(for: .milliseconds(200))
            #expect(atY.all("notification").count == 1, "Y saw \(atY.all("notification"))")
            // A plain creation pushes no count: the client adds each notification to the count it was given,
            // which says how far it reaches (`last_id`).
            #expect(atX.all("inbox").isEmpty, "\(atX.all("inbox"))")
            let counted = try await server.request(
                .GET, "/api/v1/notifications/unread-count", token: try await server.token("ux", locations: ["X"]))
            #expect(counted.json == .object(["count": .int(3), "last_id": .int(broadcast[0])]))
            // A REST change pushes the authoritative count to the user's sockets.
            let ux = try await server.token("ux", locations: ["X"])
            #expect(
                try await server.request(.PUT, "/api/v1/notifications/\(personal[0])/read", token: ux).status == .ok)
            var read = try await atX.next("inbox")
            while read["reason"] != .string("read") { read = try await atX.next("inbox") }
            #expect(read["unread_count"] == .int(2))
            #expect(read["ids"] == .array([.int(personal[0])]))
            #expect(read["last_id"] == .int(broadcast[0]))
            #expect(try await server.request(.PUT, "/api/v1/notifications/read-all", token: ux).status == .ok)
            var all = try await atX.next("inbox")
            while all["reason"] != .string("read_all") { all = try await atX.next("inbox") }
            #expect(all["unread_count"] == .int(0))
        }
    }

    @Test("the count is pushed where a client cannot follow it: a collapse, an expiry, a move between locations")
    func countPushes() async throws {
        try await TestServer.with { server in
            let socket = try await TestSocket.open(server, token: try await server.token("cp", locations: ["CP"]))
            // A collapse: the second notification replaced the first, so the count stays at one.
            let first = try await server.publish(
                #"{"location_id":"CP","type":"booking","title":"2 new","message":"m","collapse_key":"msgs"}"#)
            let second = try await server.publish(
                #"{"location_id":"CP","type":"booking","title":"3 new","message":"m","collapse_key":"msgs"}"#)
            #expect(try await socket.next("notification")["id"]?.int64Value == first[0])
            #expect(try await socket.next("notification")["id"]?.int64Value == second[0])
            let collapsed = try await socket.next("inbox")
            #expect(collapsed["reason"] == .string("created"))
            #expect(collapsed["ids"] == .array([.int(second[0])]))
            #expect(collapsed["unread_count"] == .int(1))
            #expect(collapsed["last_id"] == .int(second[0]))
            // An expiry: counted by the client when it arrives, pushed when it leaves the count. Six seconds, so a
            // busy machine still delivers it before it expires.
            let expiry = Date().addingTimeInterval(6)
            let expiring = try await server.publish(
                #"{"user_id":"cp","type":"system","title":"t","message":"m","expires_at":"\#(Timestamp.string(expiry))"}"#
            )
            #expect(try await socket.next("notification")["id"]?.int64Value == expiring[0])
            let expired = try await socket.next("inbox", timeout: 15)
            #expect(Date() >= expiry)
            #expect(expired["reason"] == .string("deleted"))
            #expect(expired["ids"] == .array([.int(expiring[0])]))
            #expect(expired["unread_count"] == .int(1))
            #expect(socket.all("inbox").count == 2, "\(socket.all("inbox"))")
            // A refreshed token that leaves the location takes its notification out of the count.
            try await socket.send(#"{"type":"auth","token":"\#(try await server.token("cp", locations: ["OTHER"]))"}"#)
            #expect(try await socket.next("auth_ok")["type"] == .string("auth_ok"))
            let moved = try await socket.next("inbox")
            #expect(moved["reason"] == .string("created") && moved["ids"] == .array([]))
            #expect(moved["unread_count"] == .int(0))
        }
    }

    /// A one-recipient publish writes its socket entry in SQL around text Swift rendered (NotifyEntryTemplate);
    /// a multi-recipient one renders it in Swift; a large one goes by id and is read back. All three must be the
    /// item the inbox lists, to the byte of `data` as stored.
    @Test("a notification arrives on the socket exactly as the inbox lists it, whichever way it was sent")
    func socketItemIsTheListedItem() async throws {
        try await TestServer.with { server in
            let token = try await server.token("same", locations: ["S"])
            let socket = try await TestSocket.open(server, token: token)
            let expires = Timestamp.string(Date().addingTimeInterval(3600))
            let fields =
                #""type":"booking","priority":"high","title":"Quote \" and é ✓","message":"line\nbreak","#
                + #""action_url":"https://e.x/a?b=1","expires_at":"\#(expires)""#
            let data = #""data":{"zeta":[1,2.50,{"b":null,"a":"x"}],"alpha":true}"#
            let big = #""data":{"big":"\#(String(repeating: "q", count: 9000))"}"#
            var ids: [Int64] = []
            ids += try await server.publish(#"{"user_id":"same",\#(fields),\#(data)}"#)
            ids += try await server.publish(#"{"location_id":"S",\#(fields),\#(data)}"#)
            ids += try await server.publish(#"{"user_ids":["same","other"],\#(fields),\#(data)}"#).prefix(1)
            ids += try await server.publish(#"{"user_id":"same",\#(fields),\#(big)}"#)
            var delivered: [Int64: JSONValue] = [:]
            for _ in ids {
                let frame = try await socket.next("notification")
                if let id = frame["id"]?.int64Value, let item = frame["data"] { delivered[id] = item }
            }
            let listed = try await server.request(.GET, "/api/v1/notifications", token: token).items
            #expect(listed.count == ids.count)
            for item in listed {
                guard let id = item["id"]?.int64Value else { continue }
                #expect(
                    delivered[id] == item,
                    "notification \(id): socket \(String(describing: delivered[id])), list \(item)")
            }
        }
    }

    @Test("token problems close with 4401 before any data frame; exp closes a live socket")
    func tokenFailuresAndExpiry() async throws {
        try await TestServer.with { server in
            for token in [
                "", "garbage",
                try await TokenMinter(secret: "another-secret-0123456789abcdef-0123456789").mint(sub: "x"),
            ] {
                let socket = try await RawSocket.connect(port: server.app.port, token: token)
                #expect(await socket.statusLine(timeout: 5).hasPrefix("HTTP/1.1 101"))
                #expect(await socket.closeCode() == 4401)
                #expect(socket.dataFrames == 0)
            }
            let short = try await TestSocket.open(server, token: try await server.token("brief", ttl: 3))
            #expect(try await short.closeCode(timeout: 6) == 4401)
        }
    }

    @Test("auth refreshes the token in place; another user's token is refused and the old one stays")
    func authRefresh() async throws {
        try await TestServer.with { server in
            // Five seconds: long enough to connect with the whole suite loading both cores, short enough to wait out.
            let socket = try await TestSocket.open(server, token: try await server.token("ref", ttl: 5))
            let fresh = try await server.token("ref", locations: ["L2"], ttl: 600)
            try await socket.send(#"{"type":"auth","token":"\#(fresh)"}"#)
            let ok = try await socket.next()
            #expect(ok["type"] == .string("auth_ok"))
            #expect((ok["exp"]?.int64Value ?? 0) > Int64(Date().timeIntervalSince1970) + 500)
            // The move to L2 changed what the user sees: its count follows.
            #expect(try await socket.next("inbox")["unread_count"] == .int(0))
            try await socket.send(#"{"type":"auth","token":"\#(try await server.token("someone-else"))"}"#)
            #expect(try await socket.next()["code"] == .string("auth_failed"))
            try await socket.send(#"{"type":"auth","token":"garbage"}"#)
            #expect(try await socket.next()["code"] == .string("auth_failed"))
            // The refreshed token is in force: past the first token's exp, the socket is open and sees L2.
            try await Task.sleep(for: .seconds(5.5))
            #expect(!socket.socket.isClosed)
            let ids = try await server.publish(#"{"location_id":"L2","type":"system","title":"t","message":"m"}"#)
            #expect(try await socket.next("notification")["id"]?.int64Value == ids[0])
        }
    }

    @Test("per-socket work is bounded: 256 subscriptions, one ack statement at a time with the rest merged")
    func boundedSocketWork() async throws {
        try await TestServer.with { server in
            let socket = try await TestSocket.open(server, token: try await server.token("busy", locations: ["B"]))
            for batch in 0..<2 {
                let types = (0..<100).map { "\"t\(batch)-\($0)\"" }.joined(separator: ",")
                try await socket.send(#"{"type":"subscribe","event_types":[\#(types)]}"#)
                let subscribed = try await socket.next("subscribed")["event_types"]
                if case .array(let listed)? = subscribed {
                    #expect(listed.count == (batch + 1) * 100)
                } else {
                    Issue.record("no list: \(String(describing: subscribed))")
                }
            }
            let more = (0..<100).map { "\"t2-\($0)\"" }.joined(separator: ",")
            try await socket.send(#"{"type":"subscribe","event_types":[\#(more)]}"#)
            let refused = try await socket.next("error")
            #expect(refused["code"] == .string("invalid_field"))
            #expect(refused["detail"]?.stringValue?.contains("256") == true)

            // Each receipt statement is counted, and slowed to 50 ms so acks pile up behind it, by a trigger of the
            // test's own.
            try await server.sql("CREATE TABLE ack_statements (at timestamptz DEFAULT now())")
            try await server.sql(
                """
                CREATE FUNCTION count_ack() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN INSERT INTO ack_statements DEFAULT VALUES; PERFORM pg_sleep(0.05); RETURN NULL; END $$
                """)
            try await server.sql(
                """
                CREATE TRIGGER count_ack AFTER INSERT ON notification_receipts
                FOR EACH STATEMENT EXECUTE FUNCTION count_ack()
                """)
            var ids: [Int64] = []
            for index in 0..<20 {
                ids += try await server.publish(
                    #"{"location_id":"B","type":"system","title":"\#(index)","message":"m"}"#)
            }
            for id in ids { try await socket.send(#"{"type":"ack","ids":[\#(id)]}"#) }
            var delivered = 0
            for _ in 0..<200 where delivered < ids.count {
                try await Task.sleep(for: .milliseconds(20))
                let rows = try await server.app.postgres.query(
                    "SELECT count(*) FROM notification_receipts WHERE user_id = 'busy' AND delivered_at IS NOT NULL"
                ).collect()
                delivered = try rows.first?.decode(Int.self) ?? 0
            }
            #expect(delivered == ids.count)
            let statements = try await server.app.postgres.query("SELECT count(*) FROM ack_statements").collect()
            let count = try statements.first?.decode(Int.self) ?? 0
            #expect(count < ids.count / 2, "\(ids.count) acks took \(count) statements")
        }
    }

    @Test("a resume of a long gap of large notifications is paced to the send buffer, not closed with 1008")
    func pacedReplay() async throws {
        // 12 MB to load for the replay: REQUEST_TIMEOUT (which bounds the query) leaves room for a busy machine, as
        // this test is about pacing, not about a slow load's `reset`.
        try await TestServer.with(["WS_SEND_BUFFER_BYTES": "65536", "WS_RESUME_MAX": "1000", "REQUEST_TIMEOUT": "20"]) {
            server in
            let pad = String(repeating: "p", count: 30_000)
            try await server.sql(
                """
                INSERT INTO notifications (type, title, message, user_id, publisher, data)
                SELECT 'system', 'gap ' || g, 'm', 'gapped', 'seed', jsonb_build_object('pad', '\(pad)')
                FROM generate_series(1, 400) g
                """)
            let socket = try await TestSocket.open(
                server, token: try await server.token("gapped"), query: "&since=0")
            var received = 0
            while received < 400 {
                _ = try await socket.next("notification", timeout: 20)
                received += 1
            }
            #expect(!socket.socket.isClosed)
            let ids = socket.all("notification").compactMap { $0["id"]?.int64Value }
            #expect(ids == ids.sorted() && Set(ids).count == 400)
        }
    }

    @Test("subscribe filters events; ack records delivered_at")
    func subscribeAndAck() async throws {
        try await TestServer.with { server in
            let filtered = try await TestSocket.open(server, token: try await server.token("ev"))
            let everything = try await TestSocket.open(server, token: try await server.token("ev"))
            try await filtered.send(#"{"type":"subscribe","event_types":["typing","presence"]}"#)
            #expect(
                try await filtered.next()
                    == .object([
                        "type": .string("subscribed"), "event_types": .array([.string("presence"), .string("typing")]),
                    ]))
            try await filtered.send(#"{"type":"unsubscribe","event_type":"presence"}"#)
            #expect(try await filtered.next()["event_types"] == .array([.string("typing")]))
            let admin = try await server.adminToken()
            let other = try await server.request(
                .POST, "/api/v1/events", token: admin,
                json: #"{"user_id":"ev","event_type":"presence","data":{"on":true}}"#)
            #expect(other.status == .accepted)
            #expect(other.json == .object(["delivered": .int(1)]))
            let typing = try await server.request(
                .POST, "/api/v1/events", token: admin, json: #"{"user_id":"ev","event_type":"typing","data":{"n":1}}"#)
            #expect(typing.json == .object(["delivered": .int(2)]))
            let event = try await filtered.next("event")
            #expect(event["event_type"] == .string("typing") && event["data"] == .object(["n": .int(1)]))
            #expect(try await everything.next("event")["event_type"] == .string("presence"))
            #expect(try await everything.next("event")["event_type"] == .string("typing"))
            #expect(filtered.all("event").count == 1)
            let user = try await server.token("plain")
            #expect(
                try await server.request(
                    .POST, "/api/v1/events", token: user, json: #"{"broadcast":true,"event_type":"x"}"#
                )
                .status == .forbidden)

            let ids = try await server.publish(#"{"user_id":"ev","type":"system","title":"t","message":"m"}"#)
            _ = try await filtered.next("notification")
            try await filtered.send(#"{"type":"ack","ids":[\#(ids[0])]}"#)
            let token = try await server.token("ev")
            var delivered: JSONValue?
            for _ in 0..<100 {
                delivered = try await server.request(.GET, "/api/v1/notifications", token: token).items.first?[
                    "delivered_at"]
                if delivered != .null { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(delivered?.stringValue.flatMap(Timestamp.parse) != nil)
        }
    }

    @Test("1009 for an oversized message, 1007 for invalid UTF-8; fragments are joined")
    func frameRules() async throws {
        try await TestServer.with(["WS_MAX_MESSAGE_BYTES": "1024"]) { server in
            let token = try await server.token("fr")
            let fragmented = try await TestSocket.open(server, token: token)
            fragmented.send(raw: Array(#"{"type":"#.utf8), opcode: .text, fin: false)
            fragmented.send(raw: Array(#""ping"}"#.utf8), opcode: .continuation, fin: true)
            #expect(try await fragmented.next()["type"] == .string("pong"))

            let big = try await TestSocket.open(server, token: token)
            try await big.send(#"{"type":"ping","pad":"\#(String(repeating: "x", count: 2000))"}"#)
            #expect(try await big.closeCode() == 1009)

            let pieces = try await TestSocket.open(server, token: token)
            pieces.send(raw: Array(repeating: 0x20, count: 500), opcode: .text, fin: false)
            for _ in 0..<2 { pieces.send(raw: Array(repeating: 0x20, count: 500), opcode: .continuation, fin: false) }
            #expect(try await pieces.closeCode() == 1009)

            let invalid = try await TestSocket.open(server, token: token)
            invalid.send(raw: [0x7B, 0xC3, 0x28, 0x7D], opcode: .text)
            #expect(try await invalid.closeCode() == 1007)
        }
    }

    @Test("a flood is rate-limited, then closed with 1008")
    func flood() async throws {
        try await TestServer.with { server in
            let socket = try await TestSocket.open(server, token: try await server.token("flood"))
            // All written at once, before the server can close, so no write of ours fails mid-flood.
            for _ in 0..<300 { socket.socket.send(#"{"type":"ping"}"#, promise: nil) }
            let code = try await socket.closeCode()
            #expect(code == 1008, "closed with \(String(describing: code)) after \(socket.messages)")
            #expect(socket.all("error").contains { $0["code"] == .string("rate_limited") })
            #expect(socket.all("pong").count >= Int(SessionHandlerLimits.burst))
        }
    }
}

/// The session's published rate limits, mirrored for assertions.
enum SessionHandlerLimits {
    static let burst = 40.0
}
