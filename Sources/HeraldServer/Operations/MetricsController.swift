import Vapor

/// `GET /metrics` (and `/api/v1/metrics`): the Prometheus text format. Socket counters live per event loop, so a
/// scrape first collects them (one hop per loop) and then renders the registry.
struct MetricsController: Sendable {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let metrics: HeraldMetrics
    let registry: SocketRegistry

    func register(on routes: any RoutesBuilder) {
        routes.on(.GET, "metrics", task: scrape).answering(.ok)
    }

    func scrape(_ request: Request) async -> Response {
        await registry.flushMetrics(on: request.eventLoop)
        var body = request.byteBufferAllocator.buffer(capacity: 16_384)
        body.writeBytes(metrics.render())
        return Response(
            status: .ok, headers: HTTPHeaders([("content-type", Self.contentType)]), body: .init(buffer: body))
    }
}
