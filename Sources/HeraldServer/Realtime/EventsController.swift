import Vapor

/// `POST /api/v1/events`: an ephemeral event, not stored, for the sockets online now. It is NOTIFYed to the other
/// instances first (by reference when it is too large for a payload, whatever the audience's size), and only then
/// delivered here, where `delivered` counts this instance's sockets: an event that could not reach the other
/// instances is a 503 and reaches no socket, rather than a 202 for a delivery that went out only in part.
struct EventsController: Sendable {
    /// NOTIFY carries the event whole, so its data must fit in a payload.
    static let maxDataBytes = 7000

    let parser: PublicationParser
    let policy: PublishPolicy
    let registry: SocketRegistry
    let fanout: FanoutStore
    let instanceID: String

    func register(on api: any RoutesBuilder) {
        api.on(.POST, "events", body: .collect(maxSize: "1mb"), task: publish)
            .answering(
                .accepted, .unauthorized, .forbidden, .payloadTooLarge, .unprocessableEntity, .serviceUnavailable)
    }

    func publish(_ request: Request) async throws -> Response {
        let principal = try request.principal
        guard let buffer = request.body.data, buffer.readableBytes > 0 else {
            throw HeraldError.validation([.init([.name("body")], "Field required", type: "missing")])
        }
        guard let body = JSONValue.parse(buffer.readableBytesView) else {
            throw HeraldError.validation([.init([.name("body")], "JSON decode error", type: "json_invalid")])
        }
        guard let fields = body.objectValue else {
            throw HeraldError.validation([
                .init([.name("body")], "Input should be a valid dictionary", type: "dict_type")
            ])
        }
        var issues: [ValidationIssue] = []
        let target = parser.parseTarget(fields, &issues)
        let eventType = fields["event_type"]?.stringValue
        if eventType == nil || eventType!.isEmpty || eventType!.unicodeScalars.count > 64 {
            issues.append(.body("event_type", "event_type must be a string of 1 to 64 characters", type: "string_type"))
        }
        let dataJSON = parser.dataJSON(fields, maxBytes: Self.maxDataBytes, &issues)
        guard issues.isEmpty, let target, let eventType else { throw HeraldError.validation(issues) }
        try await policy.authorize(principal, to: target)
        let event = EphemeralEvent(
            audiences: target.audiences, eventType: eventType, dataJSON: dataJSON, origin: instanceID)
        try await fanout.notify(.event(event))
        let delivered = try await registry.deliver(event, on: request.eventLoop).get()
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("delivered")
        writer.int(delivered)
        writer.endObject()
        return .json(.accepted, writer)
    }
}
