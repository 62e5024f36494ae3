import Foundation
import Logging

/// One JSON object per line on stderr, for log shippers. Metadata values are written as strings.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
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
        writer.string(message.description)
        let merged = metadata.merging(explicit ?? [:], uniquingKeysWith: { _, new in new })
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            writer.key(key)
            writer.string(value.description)
        }
        writer.endObject()
        var bytes = writer.bytes
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buffer in
            _ = write(STDERR_FILENO, buffer.baseAddress, buffer.count)
        }
    }
}
