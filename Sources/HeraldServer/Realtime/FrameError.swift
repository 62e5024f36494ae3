/// Why a client message was refused: the `code` and `detail` of the `error` frame that answers it. The
/// socket stays open; only a flood of these closes it.
package struct FrameError: Error, Equatable {
    enum Code: String {
        case invalidJSON = "invalid_json"
        case badRequest = "bad_request"
        case invalidField = "invalid_field"
        case unknownType = "unknown_type"
    }

    let code: Code
    let detail: String

    static func field(_ name: String, _ problem: String) -> FrameError {
        FrameError(code: .invalidField, detail: "\(name) \(problem)")
    }
}
