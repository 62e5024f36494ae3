import Foundation
import Logging

/// One JSON object per line, on stderr by default, for log shippers. Metadata values are written as strings, and
/// every string passes through ``LogRedactor`` first, so no token reaches the log.
public struct JSONLogHandler: LogHandler {
    /// Receives each finished line, newline included.
    public typealias Output = @Sendable ([UInt8]) -> Void

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let output: Output

    /// Writes the whole line: `write` may take part of it, or be interrupted by a signal (SIGTERM arriving while
    /// the drain logs), and a cut line is not JSON.
    public static let standardError: Output = { line in
        line.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }

    public init(label: String, level: Logger.Level, output: @escaping Output = JSONLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let explicit = event.metadata
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("ts")
        writer.string(Timestamp.string())
        writer.key("level")
        writer.string(level.rawValue)
        writer.key("logger")
        writer.string(label)
        writer.key("msg")
        writer.string(LogRedactor.redact(message.description))
        let merged = metadata.merging(explicit ?? [:], uniquingKeysWith: { _, new in new })
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            writer.key(key)
            writer.string(LogRedactor.redact(value.description))
        }
        writer.endObject()
        var bytes = writer.bytes
        bytes.append(UInt8(ascii: "\n"))
        output(bytes)
    }
}
