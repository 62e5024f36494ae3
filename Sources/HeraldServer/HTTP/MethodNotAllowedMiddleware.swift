import Vapor

/// Answers 405 with an `Allow` header, instead of the router's 404, when the path exists but not for the method,
/// as HTTP (RFC 9110 §15.5.6) and API clients expect. It is built from the routes after they are registered, and
/// looks at them only when the router found no route, so a request that has one pays nothing for it.
struct MethodNotAllowedMiddleware: Middleware {
    private let patterns: [(path: [PathComponent], methods: [String])]

    init(routes: [Route]) {
        var byPath: [String: (path: [PathComponent], methods: Set<String>)] = [:]
        for route in routes {
            let key = route.path.map(\.description).joined(separator: "/")
            byPath[key, default: (route.path, [])].methods.insert(route.method.rawValue)
        }
        patterns = byPath.values.map { ($0.path, $0.methods.sorted()) }
    }

    func respond(to request: Request, chainingTo next: any Responder) -> EventLoopFuture<Response> {
        next.respond(to: request).flatMapErrorThrowing { error in
            guard error is RouteNotFound else { throw error }
            let allowed = allowedMethods(request.url.path)
            // Vapor answers HEAD with the GET route, so a HEAD that found nothing has no GET either.
            guard !allowed.isEmpty else { throw error }
            throw HeraldError.methodNotAllowed(allowed)
        }
    }

    /// The methods of the most specific paths that match: `/notifications/read-all` is that route, not
    /// `/notifications/{id}`.
    func allowedMethods(_ path: String) -> [String] {
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        let matching = patterns.filter { Self.matches($0.path, components) }
        let specificity = matching.map { Self.constants($0.path) }.max() ?? 0
        return Set(matching.filter { Self.constants($0.path) == specificity }.flatMap(\.methods)).sorted()
    }

    private static func constants(_ path: [PathComponent]) -> Int {
        path.filter { if case .constant = $0 { return true } else { return false } }.count
    }

    private static func matches(_ pattern: [PathComponent], _ components: [Substring]) -> Bool {
        guard pattern.count == components.count else { return false }
        for (expected, actual) in zip(pattern, components) {
            switch expected {
            case .constant(let text) where text != actual: return false
            case .catchall: return true
            default: continue
            }
        }
        return true
    }
}
