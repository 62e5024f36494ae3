import HeraldServer
import NIOHTTP1
import Testing

/// Nobody reaches what is not theirs, and what is hidden answers 404, never 403, so existence does not leak.
@Suite("Access matrix")
struct AccessMatrixTests {
    @Test("user A cannot see or change user B's personal notifications on any route")
    func personalIsolation() async throws {
        try await TestServer.with { server in
            let ids = try await server.publish(#"{"user_id":"bob","type":"system","title":"b","message":"m"}"#)
            let alice = try await server.token("alice")
            #expect(try await server.request(.GET, "/api/v1/notifications", token: alice).items.isEmpty)
            #expect(try await server.request(.GET, "/api/v1/notifications/unread", token: alice).items.isEmpty)
            #expect(
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: alice).json?["count"]
                    == .int(0))
            for (method, path) in [
                (HTTPMethod.PUT, "/api/v1/notifications/\(ids[0])/read"),
                (.PUT, "/api/v1/notifications/\(ids[0])/unread"),
                (.DELETE, "/api/v1/notifications/\(ids[0])"),
            ] {
                let response = try await server.request(method, path, token: alice)
                #expect(response.status == .notFound, "\(method) \(path)")
                #expect(response.detail == "Notification not found")
            }
            #expect(
                try await server.request(.PUT, "/api/v1/notifications/read-all", token: alice).json?["updated"]
                    == .int(0))
            #expect(
                try await server.request(.DELETE, "/api/v1/notifications", token: alice).json?["deleted"] == .int(0))
            // Bob's notification is untouched by all of that.
            let bob = try await server.token("bob")
            let mine = try await server.request(.GET, "/api/v1/notifications", token: bob)
            #expect(mine.ids == ids)
            #expect(mine.items.first?["is_read"] == .bool(false))
        }
    }

    @Test("a user outside a location cannot see or change its notifications")
    func locationIsolation() async throws {
        try await TestServer.with { server in
            let ids = try await server.publish(
                #"{"location_id":"shop-1","type":"team_update","title":"t","message":"m"}"#)
            let outsider = try await server.token("out", locations: ["shop-2"])
            #expect(try await server.request(.GET, "/api/v1/notifications", token: outsider).items.isEmpty)
            #expect(
                try await server.request(.GET, "/api/v1/notifications?location_id=shop-1", token: outsider).items
                    .isEmpty)
            for (method, path) in [
                (HTTPMethod.PUT, "/api/v1/notifications/\(ids[0])/read"), (.DELETE, "/api/v1/notifications/\(ids[0])"),
            ] {
                #expect(try await server.request(method, path, token: outsider).status == .notFound)
            }
            #expect(
                try await server.request(.PUT, "/api/v1/notifications/read-all?location_id=shop-1", token: outsider)
                    .json?["updated"] == .int(0))
            let insider = try await server.token("in", locations: ["shop-1"])
            #expect(try await server.request(.GET, "/api/v1/notifications", token: insider).ids == ids)
        }
    }

    @Test("publishing: users never, staff only at their locations, admins and services anywhere")
    func publishPermissions() async throws {
        try await TestServer.with { server in
            let body = { (target: String) in #"{\#(target),"type":"system","title":"t","message":"m"}"# }
            let user = try await server.token("plain", locations: ["L1"])
            for target in [#""user_id":"x""#, #""location_id":"L1""#, #""broadcast":true"#] {
                let response = try await server.request(.POST, "/api/v1/notifications", token: user, json: body(target))
                #expect(response.status == .forbidden, "\(target)")
                #expect(response.detail == "Not allowed to publish notifications")
            }
            // Staff: own location yes, other location and broadcast no.
            let staff = try await server.token("staffer", locations: ["L1"], role: .staff)
            #expect(
                try await server.request(
                    .POST, "/api/v1/notifications", token: staff, json: body(#""location_id":"L1""#)
                )
                .status == .created)
            #expect(
                try await server.request(
                    .POST, "/api/v1/notifications", token: staff, json: body(#""location_id":"L2""#)
                )
                .status == .forbidden)
            #expect(
                try await server.request(.POST, "/api/v1/notifications", token: staff, json: body(#""broadcast":true"#))
                    .status == .forbidden)
            // Staff to users: only those whose latest token placed them at one of the staff member's locations.
            _ = try await server.request(
                .GET, "/api/v1/notifications", token: server.token("client-in", locations: ["L1"]))
            _ = try await server.request(
                .GET, "/api/v1/notifications", token: server.token("client-out", locations: ["L2"]))
            #expect(
                try await server.request(
                    .POST, "/api/v1/notifications", token: staff, json: body(#""user_id":"client-in""#)
                )
                .status == .created)
            let outside = try await server.request(
                .POST, "/api/v1/notifications", token: staff, json: body(#""user_ids":["client-in","client-out"]"#))
            #expect(outside.status == .forbidden)
            #expect(outside.detail == "Staff may only publish to users at their own locations")
            #expect(
                try await server.request(
                    .POST, "/api/v1/notifications", token: staff, json: body(#""user_id":"never-seen""#)
                )
                .status == .forbidden)
            // Nothing was stored for the refused publishes.
            let out = try await server.token("client-out", locations: ["L2"])
            #expect(try await server.request(.GET, "/api/v1/notifications", token: out).items.isEmpty)
            // A service token (publish scope) may broadcast.
            let service = try await server.token("billing", scope: "notifications:publish")
            #expect(
                try await server.request(
                    .POST, "/api/v1/notifications", token: service, json: body(#""broadcast":true"#)
                )
                .status == .created)
        }
    }

    @Test("staff lose a user who left their location: on the socket's token refresh, and after MEMBERSHIP_MAX_AGE")
    func staleMembership() async throws {
        try await TestServer.with(["MEMBERSHIP_MAX_AGE": "3600"]) { server in
            let body = { (user: String) in #"{"user_id":"\#(user)","type":"system","title":"t","message":"m"}"# }
            let staff = try await server.token("staffer", locations: ["L1"], role: .staff)
            // A user seen at L1 on a socket moves away: the refreshed token names no location.
            let socket = try await TestSocket.open(server, token: try await server.token("mover", locations: ["L1"]))
            try await Task.sleep(for: .milliseconds(300))
            #expect(
                try await server.request(.POST, "/api/v1/notifications", token: staff, json: body("mover")).status
                    == .created)
            try await socket.send(#"{"type":"auth","token":"\#(try await server.token("mover"))"}"#)
            _ = try await socket.next("auth_ok")
            try await Task.sleep(for: .milliseconds(300))
            #expect(
                try await server.request(.POST, "/api/v1/notifications", token: staff, json: body("mover")).status
                    == .forbidden)
            // A user last seen at L1 longer ago than the maximum age no longer counts as at L1.
            _ = try await server.request(
                .GET, "/api/v1/notifications", token: server.token("gone", locations: ["L1"]))
            #expect(
                try await server.request(.POST, "/api/v1/notifications", token: staff, json: body("gone")).status
                    == .created)
            try await server.sql(
                "UPDATE user_locations SET seen_at = now() - interval '2 hours' WHERE user_id = 'gone'")
            #expect(
                try await server.request(.POST, "/api/v1/notifications", token: staff, json: body("gone")).status
                    == .forbidden)
        }
    }
}
