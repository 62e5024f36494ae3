import AsyncHTTPClient
import HeraldServer
import NIOCore
import NIOHTTP1

/// `POST /api/v1/notifications` to an instance known only by its port (a spawned `herald` process, or one of
/// several), for the suites that cannot use ``TestServer/publish(_:token:)``: what it answered and the ids it
/// acknowledged. Callers decide what a refusal means (retry, throw, or an expectation).
enum PortPublisher {
    static func publish(
        port: Int, _ body: String, token: String, idempotencyKey: String? = nil, timeout: Int64 = 10
    ) async throws -> (status: HTTPResponseStatus, ids: [Int64]) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/notifications")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        if let idempotencyKey { request.headers.add(name: "Idempotency-Key", value: idempotencyKey) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard case .array(let ids)? = JSONValue.parse(bytes.readableBytesView)?["ids"] else {
            return (response.status, [])
        }
        return (response.status, ids.compactMap(\.int64Value))
    }
}
