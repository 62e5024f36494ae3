import Foundation
import HeraldServer
import NIOHTTP1
import Testing

/// Every `/notifications` route, success and error bodies, field by field.
@Suite("Inbox routes")
struct InboxRouteTests {
    static let itemFields: Set<String> = [
        "id", "type", "priority", "title", "message", "data", "is_read", "read_at", "created_at", "action_url",
        "location_id", "expires_at", "delivered_at", "collapse_key",
    ]

    @Test("list returns a bare array of 6FB items, newest first, with a keyset Link header")
    func listShapeAndPaging() async throws {
        try await TestServer.with { server in
            let ids = try await server.publish(
                #"{"user_ids":["ann","ann2"],"type":"booking","priority":"high","title":"Cut at 3","message":"See you","data":{"slot":15},"action_url":"/b/1"}"#
            )
            let more = try await server.publish(#"{"user_id":"ann","type":"system","title":"Second","message":"m"}"#)
            let ann = try await server.token("ann")
            let page = try await server.request(.GET, "/api/v1/notifications?limit=1", token: ann)
            #expect(page.status == .ok)
            #expect(page.headers.first(name: "content-type") == "application/json")
            #expect(page.ids == more)
            let link = try #require(page.headers.first(name: "link"))
            #expect(link == "</api/v1/notifications?limit=1&before=\(more[0])>; rel=\"next\"")

            let next = try await server.request(.GET, "/api/v1/notifications/?limit=1&before=\(more[0])", token: ann)
            #expect(next.ids == [ids[0]])
            let item = try #require(next.items.first?.objectValue)
            #expect(Set(item.keys) == Self.itemFields)
            #expect(item["type"] == .string("booking"))
            #expect(item["priority"] == .string("high"))
            #expect(item["title"] == .string("Cut at 3"))
            #expect(item["message"] == .string("See you"))
            #expect(item["data"] == .object(["slot": .int(15)]))
            #expect(item["is_read"] == .bool(false))
            #expect(item["read_at"] == .null)
            #expect(item["action_url"] == .string("/b/1"))
            #expect(item["location_id"] == .null)
            #expect(item["expires_at"] == .null)
            let created = try #require(item["created_at"]?.stringValue)
            #expect(created.hasSuffix("Z") && Timestamp.parse(created) != nil)

            let last = try await server.request(.GET, "/api/v1/notifications?limit=1&before=\(ids[0])", token: ann)
            #expect(last.items.isEmpty)
            #expect(last.headers.first(name: "link") == nil)
        }
    }

    @Test("offset paging, filters, unread and unread-count")
    func filtersAndUnread() async throws {
        try await TestServer.with { server in
            let booking = try await server.publish(#"{"user_id":"bo","type":"booking","title":"b","message":"m"}"#)
            let urgent = try await server.publish(
                #"{"user_id":"bo","type":"payment","priority":"urgent","title":"p","message":"m"}"#)
            let system = try await server.publish(#"{"user_id":"bo","type":"system","title":"s","message":"m"}"#)
            let bo = try await server.token("bo")
            #expect(try await server.request(.GET, "/api/v1/notifications?offset=1&limit=1", token: bo).ids == urgent)
            #expect(try await server.request(.GET, "/api/v1/notifications?type=booking", token: bo).ids == booking)
            #expect(try await server.request(.GET, "/api/v1/notifications?priority=urgent", token: bo).ids == urgent)

            let read = try await server.request(.PUT, "/api/v1/notifications/\(system[0])/read", token: bo)
            #expect(read.status == .ok)
            #expect(read.json == .object(["message": .string("Notification marked as read")]))
            #expect(try await server.request(.GET, "/api/v1/notifications/unread", token: bo).ids == urgent + booking)
            #expect(
                try await server.request(.GET, "/api/v1/notifications?unread_only=true", token: bo).ids
                    == urgent + booking)
            let count = try await server.request(.GET, "/api/v1/notifications/unread-count", token: bo)
            #expect(count.json == .object(["count": .int(2), "last_id": .int(system[0])]))
            let listed = try await server.request(.GET, "/api/v1/notifications", token: bo)
            let readItem = try #require(listed.items.first(where: { $0["id"]?.int64Value == system[0] }))
            #expect(readItem["is_read"] == .bool(true))
            #expect(readItem["read_at"]?.stringValue.flatMap(Timestamp.parse) != nil)

            let unread = try await server.request(.PUT, "/api/v1/notifications/\(system[0])/unread", token: bo)
            #expect(unread.json == .object(["message": .string("Notification marked as unread")]))
            #expect(
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: bo).json?["count"]
                    == .int(3))
        }
    }

    @Test("read-all with filters reports how many it changed")
    func readAll() async throws {
        try await TestServer.with { server in
            _ = try await server.publish(#"{"user_id":"ra","type":"booking","title":"b","message":"m"}"#)
            _ = try await server.publish(#"{"user_id":"ra","type":"system","title":"s","message":"m"}"#)
            _ = try await server.publish(#"{"location_id":"L9","type":"booking","title":"l","message":"m"}"#)
            let ra = try await server.token("ra", locations: ["L9"])
            let typed = try await server.request(.PUT, "/api/v1/notifications/read-all?type=system", token: ra)
            #expect(
                typed.json
                    == .object(["message": .string("All notifications marked as read"), "updated": .int(1)]))
            let located = try await server.request(.PUT, "/api/v1/notifications/read-all?location_id=L9", token: ra)
            #expect(located.json?["updated"] == .int(1))
            let rest = try await server.request(.PUT, "/api/v1/notifications/read-all/", token: ra)
            #expect(rest.json?["updated"] == .int(1))
            let again = try await server.request(.PUT, "/api/v1/notifications/read-all", token: ra)
            #expect(again.json?["updated"] == .int(0))
            #expect(
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: ra).json?["count"]
                    == .int(0))
        }
    }

    @Test("read-all marks a large personal inbox at once")
    func readAllAcrossBatches() async throws {
        try await TestServer.with { server in
            let rows = 12_003
            try await server.sql(
                """
                INSERT INTO notifications (type, title, message, user_id, publisher)
                SELECT 'system', 't', 'm', 'bulk', 'seed' FROM generate_series(1, \(rows))
                """)
            let bulk = try await server.token("bulk")
            let all = try await server.request(.PUT, "/api/v1/notifications/read-all", token: bulk)
            #expect(all.json?["updated"] == .int(Int64(rows)))
            #expect(
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: bulk).json?["count"]
                    == .int(0))
        }
    }

    @Test("delete one, then clear all")
    func deleteAndClear() async throws {
        try await TestServer.with { server in
            let ids = try await server.publish(#"{"user_id":"de","type":"system","title":"a","message":"m"}"#)
            _ = try await server.publish(#"{"user_id":"de","type":"system","title":"b","message":"m"}"#)
            _ = try await server.publish(#"{"broadcast":true,"type":"system","title":"c","message":"m"}"#)
            let de = try await server.token("de")
            let deleted = try await server.request(.DELETE, "/api/v1/notifications/\(ids[0])", token: de)
            #expect(deleted.status == .ok)
            #expect(deleted.json == .object(["message": .string("Notification deleted")]))
            let gone = try await server.request(.DELETE, "/api/v1/notifications/\(ids[0])", token: de)
            #expect(gone.status == .notFound)
            #expect(gone.json == .object(["detail": .string("Notification not found")]))
            let cleared = try await server.request(.DELETE, "/api/v1/notifications/", token: de)
            #expect(cleared.json == .object(["message": .string("All notifications cleared"), "deleted": .int(2)]))
            #expect(try await server.request(.GET, "/api/v1/notifications", token: de).items.isEmpty)
            // The broadcast is hidden for this user only.
            let other = try await server.token("someone-else")
            #expect(try await server.request(.GET, "/api/v1/notifications", token: other).items.count == 1)
        }
    }

    @Test("bad query parameters and ids get FastAPI 422 bodies; unknown ids 404")
    func badInput() async throws {
        try await TestServer.with { server in
            let user = try await server.token("bad")
            for (query, issue) in [
                ("limit=0", "query.limit:greater_than_equal"), ("limit=101", "query.limit:less_than_equal"),
                ("limit=x", "query.limit:int_parsing"), ("offset=-1", "query.offset:greater_than_equal"),
                ("unread_only=maybe", "query.unread_only:bool_parsing"), ("priority=huge", "query.priority:enum"),
                ("before=0", "query.before:greater_than_equal"),
            ] {
                let response = try await server.request(.GET, "/api/v1/notifications?\(query)", token: user)
                #expect(response.status == .unprocessableEntity, "\(query)")
                #expect(response.issues == [issue], "\(query)")
            }
            let notInt = try await server.request(.PUT, "/api/v1/notifications/abc/read", token: user)
            #expect(notInt.status == .unprocessableEntity)
            #expect(notInt.issues == ["path.notification_id:int_parsing"])
            for path in ["/api/v1/notifications/999999/read", "/api/v1/notifications/999999/unread"] {
                let missing = try await server.request(.PUT, path, token: user)
                #expect(missing.status == .notFound)
                #expect(missing.detail == "Notification not found")
            }
            let overflow = try await server.request(.DELETE, "/api/v1/notifications/99999999999999999999", token: user)
            #expect(overflow.status == .unprocessableEntity)
            let unknown = try await server.request(.GET, "/api/v1/nothing-here", token: user)
            #expect(unknown.status == .notFound)
            #expect(unknown.detail == "Not Found")
            // The cluster routes' path ids too: too long, or carrying NUL or an encoded slash, is 422, not 404.
            let admin = try await server.adminToken()
            let long = String(repeating: "0", count: 201)
            for (method, path, issue) in [
                (HTTPMethod.DELETE, "/api/v1/users/\(long)/sessions", "path.user_id:string_type"),
                (.POST, "/api/v1/users/\(long)/revoke", "path.user_id:string_type"),
                (.GET, "/api/v1/locations/\(long)/presence", "path.location_id:string_type"),
                (.GET, "/api/v1/locations/a%00b/presence", "path.location_id:string_type"),
                (.GET, "/api/v1/locations/a%2Fb/presence", "path.location_id:string_type"),
            ] {
                let response = try await server.request(method, path, token: admin)
                #expect(response.status == .unprocessableEntity, "\(method) \(path.prefix(40))")
                #expect(response.issues == [issue], "\(method) \(path.prefix(40))")
            }
            // A slash is an ordinary character in a query string.
            let slashed = try await server.request(.GET, "/api/v1/ws/sessions?user_id=a%2Fb", token: admin)
            #expect(slashed.status == .ok)
        }
    }

    @Test("publish validates every field and reports all problems at once")
    func publishValidation() async throws {
        try await TestServer.with { server in
            let admin = try await server.adminToken()
            let cases: [(String, [String])] = [
                ("not json", ["body:json_invalid"]),
                ("[1]", ["body:dict_type"]),
                (#"{"type":"system","title":"t","message":"m"}"#, ["body:value_error"]),
                (#"{"user_id":"a","broadcast":true,"type":"system","title":"t","message":"m"}"#, ["body:value_error"]),
                (
                    #"{"user_id":"a","type":"nope","priority":"x","title":"","message":7,"data":[1]}"#,
                    [
                        "body.type:enum", "body.priority:enum", "body.title:string_too_short",
                        "body.message:string_type", "body.data:dict_type",
                    ]
                ),
                (
                    #"{"user_id":"a","type":"system","title":"\#(String(repeating: "x", count: 201))","message":"m"}"#,
                    ["body.title:string_too_long"]
                ),
                (
                    #"{"user_ids":[],"type":"system","title":"t","message":"m"}"#, ["body.user_ids:value_error"]
                ),
                (
                    #"{"user_ids":["a",{}],"type":"system","title":"t","message":"m"}"#,
                    ["body.user_ids.1:string_type"]
                ),
                (
                    #"{"user_id":"a","type":"system","title":"t","message":"m","data":{"k":["\u0000"]}}"#,
                    ["body.data:value_error"]
                ),
                (
                    #"{"user_id":"a\u0000b","type":"system","title":"t","message":"m"}"#,
                    ["body.user_id:string_type"]
                ),
                (
                    #"{"user_id":"a","type":"system","title":"t","message":"m","expires_at":"soon"}"#,
                    ["body.expires_at:datetime_parsing"]
                ),
                (
                    #"{"user_id":"a","type":"system","title":"t","message":"\#(String(repeating: "y", count: 1001))"}"#,
                    ["body.message:string_too_long"]
                ),
            ]
            for (body, expected) in cases {
                let response = try await server.request(.POST, "/api/v1/notifications", token: admin, json: body)
                #expect(response.status == .unprocessableEntity, "\(body.prefix(60))")
                #expect(response.issues == expected, "\(body.prefix(60))")
            }
            let empty = try await server.request(.POST, "/api/v1/notifications", token: admin)
            #expect(empty.issues == ["body:missing"])
            let created = try await server.request(
                .POST, "/api/v1/notifications", token: admin,
                json: #"{"user_id":42,"type":"payout","title":"t","message":"m"}"#)
            #expect(created.status == .created)
            #expect(created.json?["ids"].map { if case .array(let ids) = $0 { ids.count } else { 0 } } == 1)
            // A numeric user id is the same user as its decimal string.
            #expect(try await server.request(.GET, "/api/v1/notifications", token: server.token("42")).items.count == 1)
        }
    }

    @Test("extra notification types come from configuration")
    func extraTypes() async throws {
        try await TestServer.with(["NOTIFICATION_TYPES": "loyalty, reminder"]) { server in
            let ids = try await server.publish(#"{"user_id":"x","type":"reminder","title":"t","message":"m"}"#)
            #expect(ids.count == 1)
        }
    }

    @Test("a body over 1 MB is refused with 413 and publishes nothing; one just under it publishes")
    func oversizedBody() async throws {
        try await TestServer.with { server in
            let admin = try await server.adminToken()
            let json = #"{"user_id":"big","type":"system","title":"t","message":"m"}"#
            // JSON allows trailing whitespace, so only the size tells these two apart.
            let over = json + String(repeating: " ", count: (1 << 20) + 1 - json.utf8.count)
            let refused = try await server.request(.POST, "/api/v1/notifications", token: admin, json: over)
            #expect(refused.status == .payloadTooLarge)
            #expect(refused.json?["detail"] == .string("request body larger than 1048576 bytes"))
            let under = json + String(repeating: " ", count: (1 << 20) - json.utf8.count)
            let created = try await server.request(.POST, "/api/v1/notifications", token: admin, json: under)
            #expect(created.status == .created)
            #expect(
                try await server.request(.GET, "/api/v1/notifications", token: server.token("big")).items.count == 1)
        }
    }
}
