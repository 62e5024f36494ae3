import Foundation
import HeraldServer
import HeraldTestSupport
import Testing

/// The unread count is kept by triggers (Migrations/0002), not counted from rows; these check it against the rows.
@Suite("Unread counts")
struct UnreadCountTests {
    /// Random publishes (personal, several users, location, broadcast, collapsing, about to expire) and random
    /// reads, unreads, deletes, read-alls and clears by three users who share two locations. After each step every
    /// user's count must equal the number of unread items their own inbox lists.
    @Test("the kept count equals the unread items listed, through every kind of change")
    func countMatchesRows() async throws {
        let seed = UInt64.random(in: 1...UInt64.max)
        try await TestServer.with { server in
            var random = SeededGenerator(seed: seed)
            let admin = try await server.adminToken()
            let users = ["ua", "ub", "uc"]
            let memberships = ["ua": ["L1", "L2"], "ub": ["L1"], "uc": ["L2"]]
            var tokens: [String: String] = [:]
            for user in users { tokens[user] = try await server.token(user, locations: memberships[user]!) }

            func listedUnread(_ user: String) async throws -> [Int64] {
                try await server.request(
                    .GET, "/api/v1/notifications?unread_only=true&limit=100", token: tokens[user]
                ).ids
            }
            func keptCount(_ user: String) async throws -> Int64? {
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: tokens[user])
                    .json?["count"]?.int64Value
            }

            for step in 0..<120 {
                let user = users.randomElement(using: &random)!
                let token = tokens[user]!
                let visible = try await server.request(.GET, "/api/v1/notifications?limit=100", token: token).ids
                let target = visible.randomElement(using: &random)
                var action = ""
                switch Int.random(in: 0..<12, using: &random) {
                case 0...4:
                    let audience = [
                        #""user_id":"\#(user)""#, #""user_ids":["ua","ub","uc"]"#, #""location_id":"L1""#,
                        #""location_id":"L2""#, #""broadcast":true"#,
                    ].randomElement(using: &random)!
                    var extra = ""
                    if Bool.random(using: &random) {
                        extra += #","collapse_key":"c\#(Int.random(in: 0..<3, using: &random))""#
                    }
                    if Int.random(in: 0..<5, using: &random) == 0 {
                        extra += #","expires_at":"\#(Timestamp.string(Date().addingTimeInterval(0.3)))""#
                    }
                    action = "publish {\(audience)\(extra)}"
                    _ = try await server.publish(
                        #"{\#(audience),"type":"system","title":"s\#(step)","message":"m"\#(extra)}"#, token: admin)
                case 5, 6:
                    guard let target else { continue }
                    action = "\(user) reads \(target)"
                    try await server.request(.PUT, "/api/v1/notifications/\(target)/read", token: token)
                case 7:
                    guard let target else { continue }
                    action = "\(user) unreads \(target)"
                    try await server.request(.PUT, "/api/v1/notifications/\(target)/unread", token: token)
                case 8, 9:
                    guard let target else { continue }
                    action = "\(user) deletes \(target)"
                    try await server.request(.DELETE, "/api/v1/notifications/\(target)", token: token)
                case 10:
                    action = "\(user) reads all"
                    try await server.request(.PUT, "/api/v1/notifications/read-all", token: token)
                default:
                    action = "\(user) clears"
                    try await server.request(.DELETE, "/api/v1/notifications", token: token)
                }
                if step % 10 == 9 { try await Task.sleep(for: .milliseconds(400)) }  // let some expire
                for user in users {
                    // A notification may expire between two requests; the listing must then match one side.
                    let before = try await keptCount(user)
                    let listed = Int64(try await listedUnread(user).count)
                    let after = try await keptCount(user)
                    let matches = before == listed || after == listed
                    #expect(
                        matches,
                        "seed \(seed), step \(step) (\(action)): \(user) lists \(listed) unread, the count said \(String(describing: before)) then \(String(describing: after))"
                    )
                    if !matches { return }
                }
            }
        }
    }

    /// Instances of the previous release, during a rolling upgrade, write receipts without the audience column
    /// the counters need; a trigger fills it in.
    @Test("a receipt written the previous release's way still lowers the count")
    func receiptWithoutAudience() async throws {
        try await TestServer.with { server in
            let ids = try await server.publish(#"{"location_id":"RU","type":"system","title":"t","message":"m"}"#)
            let token = try await server.token("rolling", locations: ["RU"])
            let count = { () async throws -> Int64? in
                try await server.request(.GET, "/api/v1/notifications/unread-count", token: token)
                    .json?["count"]?.int64Value
            }
            #expect(try await count() == 1)
            try await server.sql(
                "INSERT INTO notification_receipts (user_id, notification_id, read_at) VALUES ('rolling', \(ids[0]), now())"
            )
            #expect(try await count() == 0)
        }
    }
}
