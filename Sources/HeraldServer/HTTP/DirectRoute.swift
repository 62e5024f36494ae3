import NIOCore
import NIOHTTP1

/// A route answered on the event loop, ahead of Vapor's responder (``DirectRoutes``): for a request that comes
/// often enough for Vapor's per-request costs to matter, and whose common case needs neither a task nor a Vapor
/// `Request`. Vapor's `Request` (five locked boxes, a logger, storage, its URL parsed), six middleware futures and
/// a task were about a tenth of a publish's server CPU.
///
/// The route keeps its Vapor registration, which the OpenAPI document, `405`'s `Allow` and every case this one
/// leaves alone still go through.
protocol DirectRoute: Sendable {
    var method: HTTPMethod { get }
    /// The path's segments, as ``HeraldResponder/pathSegments(of:)`` splits a request target.
    var path: [String] { get }

    /// The answer to `request`, a failure answered as every route's is (``HeraldErrorMiddleware``); or `nil` to
    /// leave the request to Vapor's responder, which then answers it as if this did not exist. A route that
    /// returns `nil` has done nothing a client could see.
    func answer(_ request: DirectRequest) -> EventLoopFuture<DirectResponse>?
}
