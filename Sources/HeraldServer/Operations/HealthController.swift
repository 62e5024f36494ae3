import Vapor

/// `/api/v1/health/live` (the process answers) and `/api/v1/health/ready` (PostgreSQL answers and the NOTIFY
/// listener is in place; 503 otherwise, so a load balancer stops sending sockets that would miss messages).
struct HealthController: Sendable {
    let fanout: FanoutStore
    let listener: NotifyListener

    func register(on api: any RoutesBuilder) {
        api.get("health", "live") { _ in Self.body(.ok, "ok") }.answering(.ok)
        api.on(
            .GET, "health", "ready",
            task: { _ in
                let database = await fanout.isReachable()
                let ready = database && listener.isListening
                var writer = JSONWriter()
                writer.beginObject()
                writer.key("status")
                writer.string(ready ? "ready" : "not_ready")
                writer.key("database")
                writer.string(database ? "ok" : "down")
                writer.key("listener")
                writer.string(listener.isListening ? "listening" : "down")
                writer.endObject()
                return Response.json(ready ? .ok : .serviceUnavailable, writer)
            }
        ).answering(.ok, .serviceUnavailable)
    }

    static func body(_ status: HTTPResponseStatus, _ text: String) -> Response {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("status")
        writer.string(text)
        writer.endObject()
        return .json(status, writer)
    }
}
