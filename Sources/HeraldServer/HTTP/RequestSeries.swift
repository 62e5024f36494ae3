import CoreMetrics
import Dispatch
import NIOConcurrencyHelpers

/// Vapor's request series for one route: `http_requests_total`, `http_request_errors_total` and
/// `http_request_duration_seconds`, labelled with the method, the route's path (`/api/v1/notifications/:id/read`,
/// never the path asked for) and the status.
///
/// Each status's handles are made once, at its first request. Made at every request, as Vapor makes them, they
/// asked swift-metrics' factory for three series by their labels, under the registry's lock, each time.
final class RequestSeries: Sendable {
    private struct Handles: Sendable {
        let requests: Counter
        /// Only for a status of 500 or more.
        let errors: Counter?
        let duration: Timer
    }

    private let method: String
    private let path: String
    private let factory: any MetricsFactory
    private let byStatus = NIOLockedValueBox([UInt: Handles]())

    init(method: String, path: String, factory: any MetricsFactory) {
        self.method = method
        self.path = path
        self.factory = factory
    }

    /// Counts a request answered with `status`, which started at `started` (`DispatchTime`'s nanoseconds).
    func record(status: UInt, since started: UInt64) {
        let handles = byStatus.withLockedValue { byStatus in
            if let handles = byStatus[status] { return handles }
            let dimensions = [("method", method), ("path", path), ("status", String(status))]
            let handles = Handles(
                requests: Counter(label: "http_requests_total", dimensions: dimensions, factory: factory),
                errors: status >= 500
                    ? Counter(label: "http_request_errors_total", dimensions: dimensions, factory: factory) : nil,
                duration: Timer(
                    label: "http_request_duration_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds,
                    factory: factory))
            byStatus[status] = handles
            return handles
        }
        handles.requests.increment()
        handles.errors?.increment()
        handles.duration.recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started))
    }
}
