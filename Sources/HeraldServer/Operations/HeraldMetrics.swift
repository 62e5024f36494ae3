import CoreMetrics
import Prometheus

/// The Prometheus series of `/metrics` (docs/operations.md), made through swift-metrics with a factory over this instance's
/// own registry: no global metrics system, so tests run several instances in one process and each reports only
/// its own traffic. `herald serve` also bootstraps swift-metrics with the same registry, which adds Vapor's
/// `http_requests_total` and request-duration series.
public final class HeraldMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    private let connections: Meter
    private let connects: [CoreMetrics.Counter]
    private let closes: [CoreMetrics.Counter]
    private let inbound: [CoreMetrics.Counter]
    private let outbound: [CoreMetrics.Counter]
    private let publishToSend: CoreMetrics.Timer
    private let databaseErrors: [String: CoreMetrics.Counter]
    private let publishes: CoreMetrics.Counter
    private let evictions: [String: CoreMetrics.Counter]
    private let revocations: CoreMetrics.Counter
    private let refusedHandshakes: [String: CoreMetrics.Counter]

    /// Why this instance closed sockets on the cluster's behalf (``evicted(_:count:)``).
    public static let evictionReasons = ["replaced", "limit", "operator", "revoked"]

    /// The statuses a socket handshake is refused with before the upgrade (``handshakeRefused(status:)``).
    public static let handshakeRefusals = ["400", "429", "503"]

    /// Where the database errors counted by ``databaseError(_:)`` happened.
    public static let databaseComponents = ["rest", "listener", "realtime"]

    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets["herald_publish_to_send_seconds"] = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .milliseconds(2500), .seconds(5),
        ]
        connections = Meter(label: "herald_connections", factory: factory)
        connects = SocketCounters.Connect.allCases.map {
            Counter(label: "herald_connects_total", dimensions: [("result", $0.label)], factory: factory)
        }
        closes = SocketCounters.Close.allCases.map {
            Counter(label: "herald_closes_total", dimensions: [("reason", $0.label)], factory: factory)
        }
        inbound = SocketCounters.Inbound.allCases.map {
            Counter(label: "herald_messages_in_total", dimensions: [("type", $0.label)], factory: factory)
        }
        outbound = SocketCounters.Outbound.allCases.map {
            Counter(label: "herald_messages_out_total", dimensions: [("type", $0.label)], factory: factory)
        }
        publishToSend = Timer(label: "herald_publish_to_send_seconds", factory: factory)
        databaseErrors = Self.counters(
            "herald_database_errors_total", by: "component", Self.databaseComponents, factory: factory)
        publishes = Counter(label: "herald_notifications_published_total", factory: factory)
        evictions = Self.counters("herald_evictions_total", by: "reason", Self.evictionReasons, factory: factory)
        revocations = Counter(label: "herald_revocations_total", factory: factory)
        refusedHandshakes = Self.counters(
            "herald_handshakes_refused_total", by: "status", Self.handshakeRefusals, factory: factory)
    }

    /// One counter of `label` per value of the dimension `name`, by value.
    private static func counters(
        _ label: String, by name: String, _ values: [String], factory: any MetricsFactory
    ) -> [String: CoreMetrics.Counter] {
        Dictionary(
            uniqueKeysWithValues: values.map {
                ($0, Counter(label: label, dimensions: [(name, $0)], factory: factory))
            })
    }

    /// Sockets closed because the cluster decided so: the limit (`replaced`, `limit`), an operator, a revocation.
    func evicted(_ reason: String, count: Int = 1) {
        evictions[reason]?.increment(by: count)
    }

    /// A socket handshake answered with `status` instead of 101. They never reach Vapor's router, so its
    /// `http_requests_total` does not count them.
    func handshakeRefused(status: UInt) {
        refusedHandshakes[String(status)]?.increment()
    }

    /// A user's tokens revoked through the API.
    func revoked() {
        revocations.increment()
    }

    /// Adds one event loop's counts.
    func add(_ counters: SocketCounters) {
        for (index, count) in counters.connects.enumerated() where count > 0 { connects[index].increment(by: count) }
        for (index, count) in counters.closes.enumerated() where count > 0 { closes[index].increment(by: count) }
        for (index, count) in counters.inbound.enumerated() where count > 0 { inbound[index].increment(by: count) }
        for (index, count) in counters.outbound.enumerated() where count > 0 { outbound[index].increment(by: count) }
    }

    func setConnections(_ count: Int) {
        connections.set(count)
    }

    /// From the publisher's NOTIFY to the frames being written on this instance.
    func publishedToSent(microseconds: Int64) {
        publishToSend.recordNanoseconds(max(0, microseconds) * 1000)
    }

    func published(_ count: Int) {
        publishes.increment(by: count)
    }

    /// A statement or connection that failed because of PostgreSQL, in `component` (one of ``databaseComponents``).
    func databaseError(_ component: String) {
        databaseErrors[component]?.increment()
    }

    /// The exposition text.
    func render() -> [UInt8] {
        registry.emitToBuffer()
    }
}
