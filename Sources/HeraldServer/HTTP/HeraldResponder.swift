import CoreMetrics
import Dispatch
@preconcurrency import RoutingKit
import Vapor

/// Finds a request's route and runs it behind the application's middleware: what Vapor's `DefaultResponder` does,
/// which is internal to Vapor, without the two costs it adds to every request (docs/performance.md).
///
/// - **The route is found from the request's target as it arrived**, split at `/` before any `?` or `#`. Vapor
///   reads `request.url.path`, which asks Foundation's `URLComponents` to percent-decode the whole path: 2 % of a
///   publish's server CPU. Here only a path that holds a `%` is decoded; one that does not decode (`%zz`) goes
///   to Vapor's responder, as every request this finds no route for does.
/// - **Vapor's request series** are kept (``RequestSeries``), with each route's path label written once, not at
///   every request from its components.
///
/// A HEAD request takes the HEAD route if there is one, otherwise the GET route, as in Vapor. A request this finds
/// no route for is handed to Vapor's own responder, which looks again its own way: what Vapor would have routed is
/// routed, and what it would not is its `RouteNotFound`, counted under `vapor_route_undefined` (which
/// ``MethodNotAllowedMiddleware`` and ``HeraldErrorMiddleware`` answer).
struct HeraldResponder: Sendable {
    private struct CachedRoute: Sendable {
        let route: Route
        let responder: any Responder
        let series: RequestSeries
    }

    private let router: TrieRouter<CachedRoute>
    /// Vapor's responder, for what this finds no route for.
    private let fallback: any Responder
    private let reportMetrics: Bool

    /// The application's routes behind its middleware, as registered when this is made. `metrics` receives the
    /// request series (swift-metrics' global factory, which `herald serve` bootstraps, as Vapor's own).
    init(application: Application, metrics: any MetricsFactory = MetricsSystem.factory) {
        let routes = application.routes
        let middleware = application.middleware.resolve()
        let options: Set<TrieRouter<CachedRoute>.ConfigurationOption> = routes.caseInsensitive ? [.caseInsensitive] : []
        let router = TrieRouter(CachedRoute.self, options: options)
        for route in routes.all {
            let cached = CachedRoute(
                route: route, responder: middleware.makeResponder(chainingTo: route.responder),
                series: RequestSeries(
                    method: route.method.rawValue, path: Self.seriesPath(route.path.map(\.description)),
                    factory: metrics))
            // Vapor drops empty constants (a route registered as "a//b" is "a/b").
            let path = route.path.filter { component in
                if case .constant(let text) = component { return !text.isEmpty }
                return true
            }
            router.register(cached, at: [.constant(route.method.rawValue)] + path)
        }
        self.router = router
        self.fallback = application.responder.current
        self.reportMetrics = application.http.server.configuration.reportMetrics
    }

    /// A route's `path` label, as Vapor writes it: `/api/v1/notifications/:id/read`.
    static func seriesPath(_ components: [String]) -> String {
        "/" + components.joined(separator: "/")
    }

    /// Answers `request`, whose request target (`/path?query`) is `target`.
    func respond(to request: Request, target: String) -> EventLoopFuture<Response> {
        let started = DispatchTime.now().uptimeNanoseconds
        guard let found = route(request, target: target) else {
            // A search that failed may have set parameters on the way.
            request.parameters = .init()
            return fallback.respond(to: request)
        }
        request.route = found.route
        let response = found.responder.respond(to: request)
        guard reportMetrics else { return response }
        return response.always { result in
            let status: UInt
            switch result {
            case .success(let response): status = response.status.code
            case .failure: status = HTTPResponseStatus.internalServerError.code
            }
            found.series.record(status: status, since: started)
        }
    }

    private func route(_ request: Request, target: String) -> CachedRoute? {
        guard let segments = Self.pathSegments(of: target) else { return nil }
        if request.method == .HEAD,
            let head = router.route(path: [HTTPMethod.HEAD.rawValue] + segments, parameters: &request.parameters)
        {
            return head
        }
        let method = request.method == .HEAD ? HTTPMethod.GET : request.method
        return router.route(path: [method.rawValue] + segments, parameters: &request.parameters)
    }

    /// The non-empty segments of `target`'s percent-decoded path; `nil` when it does not decode. The path is
    /// decoded before it is split, as Vapor's is, so `%2F` separates segments too.
    static func pathSegments(of target: String) -> [String]? {
        var path = RequestTarget.path(of: target)
        if path.utf8.contains(UInt8(ascii: "%")) {
            guard let decoded = path.removingPercentEncoding else { return nil }
            path = Substring(decoded)
        }
        return path.utf8.split(separator: UInt8(ascii: "/")).map { String(Substring($0)) }
    }
}
