import Foundation
import HeraldReplay
import HeraldTestSupport
import Testing

@testable import HeraldServer

/// The fuzz corpora (Tests/Fuzz/corpus), replayed through the same entry points as the libFuzzer targets on every
/// test run. A crash that `make fuzz` finds is saved under Tests/Fuzz/corpus/*/ and becomes a case here.
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    static func corpus(_ name: String) throws -> [(String, [UInt8])] {
        let folder = PackageRoot.url.appendingPathComponent("Tests/Fuzz/corpus/\(name)")
        return try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted().map { file in
            (file, Array(try Data(contentsOf: folder.appendingPathComponent(file))))
        }
    }

    @Test("every frame input decodes or is refused without trapping; the valid seeds parse")
    func frames() throws {
        let inputs = try Self.corpus("frames")
        #expect(inputs.count >= 10)
        var parsed = 0
        for (_, bytes) in inputs { parsed += InboundReplay.run(bytes) }
        // The well-formed seeds (ping, subscribe, ack, resume, auth, two fragmented pings, a long ack) parse.
        #expect(parsed >= 8)
        #expect(InboundReplay.run(Array(#"garbage that is not a frame"#.utf8)) == 0)
        // The compressed seeds: a ping, and a subscribe in two fragments, parse once inflated; a megabyte of spaces
        // in a kilobyte and bytes that are not deflate end in a close.
        let byName = Dictionary(uniqueKeysWithValues: inputs)
        for (name, expected) in [
            ("deflate-ping.bin", 1), ("deflate-fragmented.bin", 1), ("deflate-bomb.bin", 0), ("deflate-corrupt.bin", 0),
        ] {
            #expect(InboundReplay.run(try #require(byName[name])) == expected, "\(name)")
        }
    }

    @Test("every token input verifies or is refused with a typed error; the valid seed verifies")
    func tokens() async throws {
        let inputs = try Self.corpus("tokens")
        var verified: [String] = []
        for (name, bytes) in inputs where await TokenReplay.run(String(decoding: bytes, as: UTF8.self)) {
            verified.append(name)
        }
        #expect(verified.contains("valid.txt") && verified.contains("numeric-sub.txt"))
        #expect(!verified.contains("none.txt") && !verified.contains("expired.txt") && !verified.contains("rs256.txt"))
    }
}
