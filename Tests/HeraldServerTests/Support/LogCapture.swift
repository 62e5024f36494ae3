import HeraldServer
import Logging
import NIOConcurrencyHelpers

/// Collects the JSON log lines of a server under test, at trace level, exactly as `LOG_FORMAT=json` would write
/// them to stderr.
final class LogCapture: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var logger: Logger {
        let lines = lines
        return Logger(label: "herald-test") { label in
            JSONLogHandler(label: label, level: .trace) { bytes in
                lines.withLockedValue { $0.append(String(decoding: bytes, as: UTF8.self)) }
            }
        }
    }

    var all: [String] { lines.withLockedValue { $0 } }
}
