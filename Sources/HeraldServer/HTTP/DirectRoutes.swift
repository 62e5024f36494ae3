import CoreMetrics
import Dispatch
import Logging
import NIOCore
import NIOHTTP1

/// The routes answered ahead of Vapor's responder (``DirectRoute``), with what Vapor's middleware does around every
/// route and these keep:
/// - the request's deadline, `REQUEST_TIMEOUT` (``DeadlineMiddleware``): whichever of the answer and the deadline
///   comes first is what the client gets;
/// - a failure answered, logged and counted as every route's is (``HeraldErrorMiddleware``);
/// - the request's id on the answer, and its access-log line (``RequestLogMiddleware``);
/// - the request series, under the route's own labels (``RequestSeries``).
///
/// The database gate and the token are the route's own to check, as they belong to its route group in Vapor.
struct DirectRoutes: Sendable {
    private struct Entry: Sendable {
        let route: any DirectRoute
        let method: HTTPMethod
        /// The path as a client writes it (`/api/v1/notifications`), which is matched without splitting it.
        let plainPath: String
        let segments: [String]
        /// `nil` when the server reports no request series (Vapor's `reportMetrics`).
        let series: RequestSeries?
    }

    private let entries: [Entry]
    private let deadline: TimeAmount
    private let errors: HeraldErrorMiddleware
    private let clients: ClientAddress
    private let logger: Logger

    /// `metrics` receives the request series, as ``HeraldResponder``'s; `nil` reports none.
    init(
        _ routes: [any DirectRoute], requestTimeout: Double, errors: HeraldErrorMiddleware, clients: ClientAddress,
        logger: Logger, metrics: (any MetricsFactory)?
    ) {
        entries = routes.map { route in
            // The series' path label is the route's path as Vapor writes it, which is also how a client writes it.
            let path = HeraldResponder.seriesPath(route.path)
            return Entry(
                route: route, method: route.method, plainPath: path, segments: route.path,
                series: metrics.map { RequestSeries(method: route.method.rawValue, path: path, factory: $0) })
        }
        deadline = .nanoseconds(Int64(requestTimeout * 1e9))
        self.errors = errors
        self.clients = clients
        self.logger = logger
    }

    /// Answers the request if one of the routes takes it, handing its answer to `write` once, on `eventLoop`;
    /// false, with nothing done, if none takes it.
    func respond(
        to head: HTTPRequestHead, body: ByteBuffer?, requestID: String, peer: SocketAddress?,
        eventLoop: any EventLoop, write: @escaping @Sendable (DirectResponse) -> Void
    ) -> Bool {
        guard let entry = entry(for: head) else { return false }
        let started = DispatchTime.now().uptimeNanoseconds
        guard let answer = entry.route.answer(DirectRequest(head: head, body: body, eventLoop: eventLoop)) else {
            return false
        }
        // A promise completes once: the answer and the timer both try, the first one counts.
        let first = eventLoop.makePromise(of: DirectResponse.self)
        let timer = eventLoop.scheduleTask(in: deadline) { first.fail(DeadlineMiddleware.timeout(for: head.method)) }
        answer.whenComplete { result in
            timer.cancel()
            first.completeWith(result)
        }
        first.futureResult.whenComplete { [errors, logger, clients] result in
            var response: DirectResponse
            switch result {
            case .success(let answered):
                response = answered
            case .failure(let error):
                var logger = logger
                logger[metadataKey: "request-id"] = .string(requestID)
                response = DirectResponse(errors.response(to: error, logger: logger))
            }
            response.headers.replaceOrAdd(name: RequestLogMiddleware.header, value: requestID)
            write(response)
            // Always asked, as for Vapor's routes, so a forwarded header from an untrusted peer is warned about.
            let client = clients.of(peer: peer, headers: head.headers)
            RequestLogMiddleware.line(
                method: head.method, path: RequestTarget.path(of: head.uri), query: RequestTarget.query(of: head.uri),
                status: response.status, seconds: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9,
                client: client, logger: logger, requestID: { requestID })
            entry.series?.record(status: response.status.code, since: started)
        }
        return true
    }

    /// The route for `head`, matched as ``HeraldResponder`` matches Vapor's routes: a path written another way
    /// (`/api//v1/notifications/`, `%61pi`) is split and decoded first.
    private func entry(for head: HTTPRequestHead) -> Entry? {
        guard entries.contains(where: { $0.method == head.method }) else { return nil }
        let path = RequestTarget.path(of: head.uri)
        if let plain = entries.first(where: { $0.method == head.method && $0.plainPath == path }) { return plain }
        guard let segments = HeraldResponder.pathSegments(of: head.uri) else { return nil }
        return entries.first { $0.method == head.method && $0.segments == segments }
    }
}
