import ArgumentParser
import Foundation
import HeraldServer
import Logging

/// The settings as flags. They are passed through to ``HeraldConfiguration``, which knows every
/// setting and validates them, so the CLI stays a thin shell.
struct SettingFlags: ParsableArguments {
    static let help = Setting.all.map { setting in
        "  \(setting.flag) / \(setting.name): \(setting.help)"
            + (setting.defaultValue.map { " [default: \($0)]" } ?? "")
    }.joined(separator: "\n")

    @Argument(parsing: .allUnrecognized, help: "Settings as --flag value; see the list below.")
    var flags: [String] = []

    /// The configuration, or exit with one line naming the bad setting.
    func configuration() -> HeraldConfiguration {
        do {
            return try HeraldConfiguration(environment: ProcessInfo.processInfo.environment, arguments: flags)
        } catch {
            Self.fail(error)
        }
    }

    static func fail(_ error: any Error) -> Never {
        fail(DatabaseFailure.description(of: error))
    }

    /// Prints `message` as one redacted line and exits.
    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("herald: \(LogRedactor.redact(message))\n".utf8))
        Foundation.exit(2)
    }

    static func bootstrapLogging(_ configuration: HeraldConfiguration) -> Logger {
        let level = configuration.logLevel
        switch configuration.logFormat {
        case .json: LoggingSystem.bootstrap { JSONLogHandler(label: $0, level: level) }
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return RedactingLogHandler(handler)
            }
        }
        return Logger(label: "herald")
    }
}
