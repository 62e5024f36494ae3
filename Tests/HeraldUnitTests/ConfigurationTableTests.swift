import Foundation
import HeraldServer
import HeraldTestSupport
import Testing

/// The configuration table users read is the one the server parses: every setting is listed, with its default.
@Suite("Configuration table")
struct ConfigurationTableTests {
    /// `name → default` from the Markdown table whose header is `| setting | default | meaning |`.
    static func documented() throws -> [String: String] {
        let readme = PackageRoot.url.appendingPathComponent("README.md")
        let lines = try String(contentsOf: readme, encoding: .utf8).split(separator: "\n")
        guard let header = lines.firstIndex(of: "| setting | default | meaning |") else { return [:] }
        var table: [String: String] = [:]
        for line in lines[(header + 2)...] {
            guard line.hasPrefix("| `") else { break }
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            table[cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells[2]
        }
        return table
    }

    @Test("every setting is in the README's table with its default, and the table lists nothing else")
    func everySettingDocumented() throws {
        let table = try Self.documented()
        #expect(Set(table.keys) == Set(Setting.all.map(\.name)))
        for setting in Setting.all {
            if let value = setting.defaultValue {
                #expect(table[setting.name] == value, "\(setting.name)")
            }
        }
    }
}
