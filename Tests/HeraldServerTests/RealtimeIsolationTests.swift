import Foundation
import HeraldServer
import HeraldTestSupport
import NIOConcurrencyHelpers
import Testing

/// Location isolation under randomised load (issue 5): no socket receives a notification it may not see, and
/// every socket receives everything it may see, exactly once.
@Suite("Location isolation")
struct RealtimeIsolationTests {
    /// What one random publish targets.
    enum Target: Sendable {
        case user(Int)
        case users([Int])
        case location(Int)
        case broadcast

        var json: String {
            switch self {
            case .user(let user): return #""user_id":"iso-\#(user)""#
            case .users(let users): return #""user_ids":[\#(users.map { "\"iso-\($0)\"" }.joined(separator: ","))]"#
            case .location(let location): return #""location_id":"L\#(location)""#
            case .broadcast: return #""broadcast":true"#
            }
        }

        func reaches(_ user: Int, at locations: Set<Int>) -> Bool {
            switch self {
            case .user(let target): return target == user
            case .users(let targets): return targets.contains(user)
            case .location(let location): return locations.contains(location)
            case .broadcast: return true
            }
        }
    }

    @Test("200 users, 10 locations, random memberships and 400 random publishes over two instances")
    func randomisedIsolation() async throws {
        let seed = UInt64.random(in: 1...UInt64.max)
        var random = SeededGenerator(seed: seed)
        let users = 200
        let memberships: [Set<Int>] = (0..<users).map { _ in
            Set((0..<Int.random(in: 0...3, using: &random)).map { _ in Int.random(in: 0..<10, using: &random) })
        }
        let targets: [Target] = (0..<400).map { _ in
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<45: return .location(Int.random(in: 0..<10, using: &random))
            case 45..<75: return .user(Int.random(in: 0..<users, using: &random))
            case 75..<92:
                return .users(
                    (0..<Int.random(in: 2...6, using: &random)).map { _ in Int.random(in: 0..<users, using: &random) })
            default: return .broadcast
            }
        }
        try await TestServer.withInstances(2) { servers in
            var sockets: [TestSocket] = []
            for user in 0..<users {
                let token = try await servers[0].token(
                    "iso-\(user)", locations: memberships[user].sorted().map { "L\($0)" })
                sockets.append(try await TestSocket.open(servers[user % 2], token: token))
            }
            let admin = try await servers[0].adminToken()
            // Eight publishers, alternating instances; each publish's ids are recorded with its target.
            let published = NIOLockedValueBox<[(Int64, Target)]>([])
            try await withThrowingTaskGroup(of: Void.self) { group in
                for publisher in 0..<8 {
                    group.addTask {
                        for index in stride(from: publisher, to: targets.count, by: 8) {
                            let target = targets[index]
                            let ids = try await servers[index % 2].publish(
                                #"{\#(target.json),"type":"system","title":"t\#(index)","message":"m"}"#, token: admin)
                            // user_ids publishes one notification per distinct recipient, in the order given.
                            if case .users(let recipients) = target {
                                var seen = Set<Int>()
                                let distinct = recipients.filter { seen.insert($0).inserted }
                                published.withLockedValue { all in
                                    for (id, user) in zip(ids, distinct) { all.append((id, .user(user))) }
                                }
                            } else {
                                published.withLockedValue { $0.append((ids[0], target)) }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let all = published.withLockedValue { $0 }
            var expected: [[Int64]] = Array(repeating: [], count: users)
            for (id, target) in all {
                for user in 0..<users where target.reaches(user, at: memberships[user]) { expected[user].append(id) }
            }
            // Wait for the last deliveries, then compare every socket with what it may see.
            let deadline = Date().addingTimeInterval(15)
            func received(_ user: Int) -> [Int64] {
                sockets[user].all("notification").compactMap { $0["id"]?.int64Value }
            }
            while Date() < deadline, (0..<users).contains(where: { received($0).count < expected[$0].count }) {
                try await Task.sleep(for: .milliseconds(50))
            }
            try await Task.sleep(for: .milliseconds(300))
            var leaked = 0
            var missing = 0
            for user in 0..<users {
                let got = received(user)
                let allowed = Set(expected[user])
                leaked += got.filter { !allowed.contains($0) }.count
                missing += allowed.subtracting(got).count
                #expect(got.count == Set(got).count, "seed \(seed): user \(user) got duplicates")
                #expect(got == got.sorted(), "seed \(seed): user \(user) got ids out of order")
            }
            #expect(leaked == 0, "seed \(seed): \(leaked) notifications reached a socket that may not see them")
            #expect(missing == 0, "seed \(seed): \(missing) notifications never reached a socket that may see them")
            #expect(expected.map(\.count).reduce(0, +) > 2000, "the load reached many sockets")
            for socket in sockets { await socket.close() }
        }
    }
}
