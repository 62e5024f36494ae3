import Vapor

/// The browser-facing files: the API document and its docs page, the `herald.js` client and the demo inbox. They
/// are files of their own under `Resources/`, embedded in the binary at build time (the EmbedResources plugin).
struct WebController: Sendable {
    static let javascript = "text/javascript; charset=utf-8"
    static let html = "text/html; charset=utf-8"
    /// Pages load only their own scripts and talk only to this origin (REST and the WebSocket).
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; "
        + "img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    let assets: [String: WebAsset]

    /// Each route's file among the embedded resources (Sources/HeraldServer/Resources), and its type.
    static let routes: [(path: String, file: String, contentType: String)] = [
        ("docs", "docs.html", html), ("docs.js", "docs.js", javascript), ("demo", "demo.html", html),
        ("demo.js", "demo.js", javascript), ("herald.js", "herald.js", javascript),
    ]

    init(notificationTypes: Set<String>, version: String) {
        var assets: [String: WebAsset] = [:]
        for route in Self.routes {
            assets[route.path] = WebAsset(EmbeddedResources.bytes(route.file), contentType: route.contentType)
        }
        assets["openapi.json"] = WebAsset(
            OpenAPIDocument.render(
                template: EmbeddedResources.bytes("openapi.json"), notificationTypes: notificationTypes,
                version: version),
            contentType: "application/json")
        self.assets = assets
    }

    func register(on routes: any RoutesBuilder) {
        for (path, asset) in assets {
            routes.get(PathComponent(stringLiteral: path)) { request in Self.serve(asset, to: request) }
                .answering(.ok, .notModified)
        }
    }

    static func serve(_ asset: WebAsset, to request: Request) -> Response {
        var headers = HTTPHeaders([
            ("content-type", asset.contentType), ("etag", asset.etag), ("cache-control", "no-cache"),
            ("x-content-type-options", "nosniff"),
        ])
        if asset.contentType == html {
            headers.add(name: "content-security-policy", value: contentSecurityPolicy)
            headers.add(name: "referrer-policy", value: "no-referrer")
        }
        if request.headers[.ifNoneMatch].contains(where: { $0 == asset.etag || $0 == "*" }) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(buffer: asset.body))
    }
}
