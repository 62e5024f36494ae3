import Vapor

extension Response {
    /// A JSON response whose body `writer` already holds; every route answers through here.
    static func json(_ status: HTTPResponseStatus, _ writer: JSONWriter) -> Response {
        Response(status: status, headers: ["content-type": "application/json"], body: .init(buffer: writer.buffer))
    }
}
