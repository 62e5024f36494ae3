import Vapor

extension Route {
    private static let statusesKey = "herald.statuses"

    /// Declares the statuses this route answers, next to where it is registered: the API document must list
    /// exactly these for the operation (`OpenAPITests`), and schemathesis checks the answers against the document.
    @discardableResult
    func answering(_ statuses: HTTPStatus...) -> Route {
        answering(statuses: statuses)
    }

    @discardableResult
    func answering(statuses: [HTTPStatus]) -> Route {
        userInfo[Self.statusesKey] = Set(statuses.map { Int($0.code) })
        return self
    }

    /// The statuses declared with ``answering(_:)``; empty if none were.
    var statuses: Set<Int> {
        userInfo[Self.statusesKey] as? Set<Int> ?? []
    }
}
