/// Splits a migration file into statements. postgres-nio speaks only the extended protocol, which takes one
/// statement at a time, so `;` is found here, outside quotes, dollar-quoted bodies and comments.
public enum SQLScript {
    public static func statements(_ script: String) -> [String] {
        var statements: [String] = []
        var current: [Character] = []
        let characters = Array(script)
        var index = 0

        func flush() {
            let statement = String(current).trimmingCharacters(in: .whitespacesAndNewlines)
            if !statement.isEmpty { statements.append(statement) }
            current.removeAll(keepingCapacity: true)
        }

        func copy(until terminator: [Character]) {
            while index < characters.count {
                if characters[index...].starts(with: terminator) {
                    current.append(contentsOf: terminator)
                    index += terminator.count
                    return
                }
                current.append(characters[index])
                index += 1
            }
        }

        while index < characters.count {
            let character = characters[index]
            if character == "-", characters[index...].starts(with: ["-", "-"]) {
                while index < characters.count, characters[index] != "\n" { index += 1 }
            } else if character == "/", characters[index...].starts(with: ["/", "*"]) {
                index += 2
                while index < characters.count, !characters[index...].starts(with: ["*", "/"]) { index += 1 }
                index += 2
            } else if character == "'" || character == "\"" {
                current.append(character)
                index += 1
                copy(until: [character])
            } else if character == "$", let tag = dollarTag(characters, at: index) {
                current.append(contentsOf: tag)
                index += tag.count
                copy(until: tag)
            } else if character == ";" {
                index += 1
                flush()
            } else {
                current.append(character)
                index += 1
            }
        }
        flush()
        return statements
    }

    /// `$$` or `$name$` starting at `index`, if one does.
    private static func dollarTag(_ characters: [Character], at index: Int) -> [Character]? {
        var end = index + 1
        while end < characters.count, characters[end] == "_" || characters[end].isLetter || characters[end].isNumber {
            end += 1
        }
        guard end < characters.count, characters[end] == "$" else { return nil }
        return Array(characters[index...end])
    }
}
