import Logging

/// Wraps another handler (the plain-text one of `LOG_FORMAT=text`) and passes message and metadata through
/// ``LogRedactor`` before it sees them.
public struct RedactingLogHandler<Wrapped: LogHandler>: LogHandler {
    private var wrapped: Wrapped

    public init(_ wrapped: Wrapped) {
        self.wrapped = wrapped
    }

    public var metadata: Logger.Metadata {
        get { wrapped.metadata }
        set { wrapped.metadata = newValue }
    }

    public var logLevel: Logger.Level {
        get { wrapped.logLevel }
        set { wrapped.logLevel = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { wrapped[metadataKey: key] }
        set { wrapped[metadataKey: key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        event.message = "\(LogRedactor.redact(event.message.description))"
        event.metadata = event.metadata?.mapValues { .string(LogRedactor.redact($0.description)) }
        // The handler's own metadata (request ids and the like) is merged by the wrapped handler; redact it too.
        var wrapped = wrapped
        wrapped.metadata = wrapped.metadata.mapValues { .string(LogRedactor.redact($0.description)) }
        wrapped.log(event: event)
    }
}
