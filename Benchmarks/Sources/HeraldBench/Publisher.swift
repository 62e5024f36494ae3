import AsyncHTTPClient
import Foundation
import NIOCore

/// Publishes through the REST API (`POST /api/v1/notifications`) as an admin; the baseline server takes the
/// same request.
struct Publisher: Sendable {
    let base: String
    let token: String

    init(port: Int, mint: TokenMint) {
        base = "http://127.0.0.1:\(port)"
        token = mint.token(sub: "bench-admin", locations: [], role: "admin")
    }

    /// Publishes `body`; returns the first id.
    func publish(_ body: String) async throws -> Int64 {
        var request = HTTPClientRequest(url: base + "/api/v1/notifications")
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .created else { throw BenchError("publish answered \(response.status)") }
        let text = String(buffer: bytes)
        guard let open = text.firstIndex(of: "["),
            let id = Int64(text[text.index(after: open)...].prefix { $0.isNumber })
        else { throw BenchError("no id in \(text)") }
        return id
    }

    /// A notification for `location`; `messageBytes` pads its message with text a person might write, so it
    /// compresses as a real one does.
    static func location(_ location: String, title: String, messageBytes: Int = 0) -> String {
        let sentence = "Your appointment at the downtown shop moved to 10:30 with Sam; reply to confirm. "
        let message =
            messageBytes <= 9
            ? "benchmark"
            : String(String(repeating: sentence, count: messageBytes / sentence.count + 1).prefix(messageBytes))
        return #"{"location_id":"\#(location)","type":"system","title":"\#(title)","message":"\#(message)"}"#
    }
}
