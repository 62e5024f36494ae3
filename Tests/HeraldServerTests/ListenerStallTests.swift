import Foundation
import HeraldServer
import Testing

/// A LISTEN connection whose network goes silent without closing (a stalled proxy, a dropped route) is noticed by
/// the instance's own probe: readiness goes red, the listener reconnects once it can, and every notification
/// committed meanwhile reaches the sockets.
@Suite("Listener stall", .serialized)
struct ListenerStallTests {
    @Test("a silent LISTEN connection is noticed within 10 s, and nothing committed during the gap is lost")
    func silentListener() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        let upstream = try TestCluster.port
        let proxy = try await StallingProxy.start(upstreamPort: upstream)
        let proxied = try await TestServer.start(
            database: database, settings: ["DATABASE_URL": try proxy.url(database: database)], instance: "proxied")
        let direct = try await TestServer.start(database: database, settings: [:], instance: "direct")
        do {
            let token = try await proxied.token("stalled", locations: ["S"])
            let socket = try await TestSocket.open(proxied, token: token)
            let before = try await direct.publish(#"{"user_id":"stalled","type":"system","title":"0","message":"m"}"#)
            #expect(try await socket.next("notification")["id"]?.int64Value == before[0])

            // The network goes silent for the LISTEN connection, and no new connection gets through for now.
            proxy.refuseNew(true)
            proxy.stallListeners()
            let stalledAt = Date()
            var gap: [Int64] = []
            for index in 1...3 {
                gap += try await direct.publish(
                    #"{"location_id":"S","type":"system","title":"\#(index)","message":"m"}"#)
            }
            var noticed: Double?
            while Date().timeIntervalSince(stalledAt) < 15 {
                let ready = try await proxied.request(.GET, "/api/v1/health/ready")
                if ready.json?["listener"] == .string("down") {
                    noticed = Date().timeIntervalSince(stalledAt)
                    #expect(ready.status == .serviceUnavailable)
                    break
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(noticed != nil && noticed! <= 10, "noticed after \(String(describing: noticed)) s")
            // The network comes back: the listener reconnects and catches the socket up.
            proxy.refuseNew(false)
            for id in gap {
                #expect(try await socket.next("notification", timeout: 15)["id"]?.int64Value == id)
            }
            let after = try await direct.publish(#"{"user_id":"stalled","type":"system","title":"4","message":"m"}"#)
            #expect(try await socket.next("notification")["id"]?.int64Value == after[0])
            #expect(socket.all("notification").count == 5)
        } catch {
            await proxied.app.shutdown(timeout: .seconds(2))
            await direct.app.shutdown(timeout: .seconds(2))
            await proxy.close()
            throw error
        }
        await proxied.app.shutdown(timeout: .seconds(2))
        await direct.app.shutdown(timeout: .seconds(2))
        await proxy.close()
    }

    @Test("notifications sent by id that cannot be fetched are not skipped: the sockets are told to refetch")
    func unfetchable() async throws {
        let database = try await TestCluster.shared.makeDatabase()
        let proxy = try await StallingProxy.start(upstreamPort: try TestCluster.port)
        let proxied = try await TestServer.start(
            database: database, settings: ["DATABASE_URL": try proxy.url(database: database)], instance: "proxied")
        let direct = try await TestServer.start(database: database, settings: [:], instance: "direct")
        do {
            let socket = try await TestSocket.open(proxied, token: try await proxied.token("far"))
            // The proxied instance keeps its LISTEN connection but loses its pool and cannot open another.
            proxy.refuseNew(true)
            let ports = proxy.poolPorts.map(String.init).joined(separator: ",")
            try await direct.sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE client_port IN (\(ports))")
            // Too large for a NOTIFY payload, so it travels by id and must be fetched.
            let big = String(repeating: "x", count: 900)
            let ids = try await direct.publish(
                #"{"user_id":"far","type":"system","title":"big","message":"\#(big)","data":{"pad":"\#(String(repeating: "y", count: 7500))"}}"#
            )
            #expect(ids.count == 1)
            let reset = try await socket.next("reset", timeout: 15)
            #expect(reset["detail"]?.stringValue?.contains("refetch") == true)
            #expect(socket.all("notification").isEmpty)
        } catch {
            await proxied.app.shutdown(timeout: .seconds(2))
            await direct.app.shutdown(timeout: .seconds(2))
            await proxy.close()
            throw error
        }
        await proxied.app.shutdown(timeout: .seconds(2))
        await direct.app.shutdown(timeout: .seconds(2))
        await proxy.close()
    }
}
