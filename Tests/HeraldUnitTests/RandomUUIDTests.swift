import Foundation
import NIOHTTP1
import Testing

@testable import HeraldServer

/// Request ids and session ids are version 4 UUIDs drawn without Foundation's per-call `/dev/urandom`.
@Suite("Random UUIDs")
struct RandomUUIDTests {
    @Test("each is a version 4, RFC 4122 variant UUID, and no two of many are alike")
    func versionVariantAndSpread() {
        let ids = (0..<10_000).map { _ in UUID.random() }
        for id in ids.prefix(100) {
            let text = id.lowercasedString
            #expect(text == id.uuidString.lowercased())
            let groups = text.split(separator: "-")
            #expect(groups.map(\.count) == [8, 4, 4, 4, 12])
            #expect(groups[2].first == "4")
            #expect(groups[3].first.map { "89ab".contains($0) } == true)
            #expect(UUID(uuidString: text) == id)
        }
        #expect(Set(ids).count == ids.count)
        // Every hex digit outside the fixed ones varies: the bytes really are drawn, not left zero.
        let first = ids.map { $0.uuid.0 }
        #expect(Set(first).count > 200)
    }

    @Test("a request without a usable X-Request-Id gets a new UUID")
    func requestIDFallsBackToRandom() {
        let given = RequestLogMiddleware.requestID(["X-Request-Id": "bad id!"])
        #expect(UUID(uuidString: given) != nil)
        #expect(given == given.lowercased())
        #expect(RequestLogMiddleware.requestID(["X-Request-Id": "trace-42.a:b"]) == "trace-42.a:b")
    }
}
