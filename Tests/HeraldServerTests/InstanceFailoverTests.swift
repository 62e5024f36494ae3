import AsyncHTTPClient
import Foundation
import HeraldServer
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Real processes on one PostgreSQL (issue 5): `kill -9` of one of two instances, then SIGTERM of the other,
/// while notifications are published; clients that resume as `herald.js` does lose nothing.
@Suite("Instance failover", .serialized)
struct InstanceFailoverTests {
    /// Publishes with an idempotency key to any live instance, trying the next one on a refusal: a publish is
    /// acknowledged once, whichever instance answers.
    static func publish(
        _ body: String, key: String, token: String, ports: [Int]
    ) async -> [Int64]? {
        for round in 0..<40 {
            for port in ports {
                guard
                    let answer = try? await PortPublisher.publish(
                        port: port, body, token: token, idempotencyKey: key),
                    answer.status == .created, !answer.ids.isEmpty
                else { continue }
                return answer.ids
            }
            try? await Task.sleep(for: .milliseconds(10 * (round + 1)))
        }
        return nil
    }

    @Test("kill -9 and then SIGTERM under load: clients resume on the survivor with nothing lost or doubled")
    func killAndDrainUnderLoad() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        let first = try await HeraldProcess.start(database: database)
        let second = try await HeraldProcess.start(database: database)
        let live = NIOLockedValueBox([first.port, second.port])
        let minter = await TokenMinter(secret: TestServer.secret)
        let clientCount = 40
        var clients: [ResumingClient] = []
        var runs: [Task<Void, Never>] = []
        for index in 0..<clientCount {
            let client = ResumingClient(token: try await minter.mint(sub: "fo-\(index)", locations: ["K"]))
            clients.append(client)
            runs.append(Task { await client.run(ports: { live.withLockedValue { $0 } }, first: index) })
        }
        for _ in 0..<500 where clients.contains(where: { $0.port == nil }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let admin = try await minter.mint(sub: "admin", role: .admin)
        let publishing = NIOLockedValueBox(true)
        let acknowledged = NIOLockedValueBox<[(ids: [Int64], user: Int?)]>([])
        let unacknowledged = NIOLockedValueBox(0)
        let publisher = Task {
            var n = 0
            while publishing.withLockedValue({ $0 }) {
                n += 1
                let user = n % 3 == 0 ? n % clientCount : nil
                let target = user.map { #""user_id":"fo-\#($0)""# } ?? #""location_id":"K""#
                let ports = live.withLockedValue { $0 }
                let body = #"{\#(target),"type":"system","title":"n\#(n)","message":"m"}"#
                if let ids = await Self.publish(
                    body, key: "fo-\(n)", token: admin, ports: n % 2 == 0 ? ports : ports.reversed())
                {
                    acknowledged.withLockedValue { $0.append((ids, user)) }
                } else {
                    unacknowledged.withLockedValue { $0 += 1 }
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }

        // kill -9 the first instance under load.
        try await Task.sleep(for: .seconds(1))
        let onFirst = clients.filter { $0.port == first.port }.count
        live.withLockedValue { $0 = [second.port] }
        _ = try await first.stop(signal: SIGKILL)
        try await Task.sleep(for: .seconds(2))
        #expect(clients.allSatisfy { $0.port == second.port }, "every client moved to the survivor")

        // A replacement comes up; then the survivor drains with SIGTERM under load.
        let third = try await HeraldProcess.start(database: database)
        live.withLockedValue { $0 = [third.port] }
        let drainedBefore = clients.map { $0.closeCodes.count }
        let status = try await second.stop(signal: SIGTERM)
        #expect(status == 0, "the drained instance exited \(status)")
        try await Task.sleep(for: .seconds(2))
        publishing.withLockedValue { $0 = false }
        await publisher.value
        let drainCodes = clients.enumerated().compactMap { index, client in
            client.closeCodes.dropFirst(drainedBefore[index]).first ?? nil
        }
        #expect(
            drainCodes.count == clientCount && drainCodes.allSatisfy { $0 == 1001 }, "SIGTERM closes: \(drainCodes)")

        // Every acknowledged notification reaches every client that may see it, once.
        let published = acknowledged.withLockedValue { $0 }
        var expected: [Set<Int64>] = Array(repeating: [], count: clientCount)
        for (ids, user) in published {
            for index in 0..<clientCount where user == nil || user == index { expected[index].formUnion(ids) }
        }
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, clients.indices.contains(where: { !expected[$0].isSubset(of: clients[$0].ids) }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        let lost = clients.indices.map { expected[$0].subtracting(clients[$0].ids).count }.reduce(0, +)
        let doubled = clients.map { $0.ids.count - Set($0.ids).count }.reduce(0, +)
        let due = expected.map(\.count).reduce(0, +)
        print(
            "failover: \(published.count) publishes acknowledged, \(unacknowledged.withLockedValue { $0 }) not; "
                + "\(onFirst) clients on the killed instance, \(clientCount) drained with 1001; \(due) deliveries due, "
                + "\(due - lost) received, \(lost) lost, \(doubled) doubled")
        #expect(published.count > 20, "publishing went on through both faults")
        #expect(lost == 0)
        #expect(doubled == 0)
        #expect(clients.allSatisfy { $0.ids == $0.ids.sorted() }, "ids arrive in increasing order")
        for client in clients { client.stop() }
        for run in runs { await run.value }
        _ = try await third.stop(signal: SIGTERM)
    }
}
