import Vapor

/// The browser-facing files: the API document and its docs page, the `herald.js` client and the demo inbox.
struct WebController: Sendable {
    static let javascript = "text/javascript; charset=utf-8"
    static let html = "text/html; charset=utf-8"
    /// Pages load only their own scripts and talk only to this origin (REST and the WebSocket).
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self' ws: wss:; "
        + "img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

    let assets: [String: WebAsset]

    init(notificationTypes: Set<String>, version: String) {
        assets = [
            "openapi.json": WebAsset(
                OpenAPIDocument.render(notificationTypes: notificationTypes, version: version),
                contentType: "application/json"),
            "docs": WebAsset(DocsPage.html, contentType: Self.html),
            "docs.js": WebAsset(DocsPage.script, contentType: Self.javascript),
            "demo": WebAsset(DemoPage.html, contentType: Self.html),
            "demo.js": WebAsset(DemoPage.script, contentType: Self.javascript),
            "herald.js": WebAsset(HeraldClientScript.source, contentType: Self.javascript),
        ]
    }

    func register(on routes: any RoutesBuilder) {
        for (path, asset) in assets {
            routes.get(PathComponent(stringLiteral: path)) { request in Self.serve(asset, to: request) }
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
