import CompressNIO
import NIOCore

/// Inflates `permessage-deflate` messages as a client must (RFC 7692 §7.2.2), for sockets that offered it. Herald
/// answers with `client_no_context_takeover` and `server_no_context_takeover`, so each message stands alone and
/// one inflater, reset after each, serves a whole loop.
final class MessageInflater {
    private let zlib: ZlibDecompressor

    init() throws {
        zlib = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
    }

    /// The message's text, or `nil` if it does not inflate.
    func inflate(_ payload: ByteBuffer) -> ByteBuffer? {
        defer { try? zlib.reset() }
        var input = payload
        input.writeBytes([0, 0, 0xFF, 0xFF])
        var output = ByteBufferAllocator().buffer(capacity: max(4096, payload.readableBytes * 8))
        while true {
            do {
                try zlib.inflate(from: &input, to: &output)
                return output
            } catch let error as CompressNIOError where error == .bufferOverflow {
                output.reserveCapacity(output.capacity * 2)
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                return output
            } catch {
                return nil
            }
        }
    }
}
