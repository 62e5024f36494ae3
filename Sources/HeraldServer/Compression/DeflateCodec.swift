import CompressNIO
import NIOCore

/// One event loop's `permessage-deflate` (RFC 7692) coder, shared by all its sockets that negotiated it. Neither
/// side takes context over (``DeflateAgreement``), so each message is compressed or inflated whole and the
/// streams are reset after it: the loop's sockets keep no zlib state of their own.
///
/// Outbound, a notification's ``EncodedFrame`` is compressed once per loop, not once per socket: the last frame
/// compressed for each window size is remembered, and a fan-out writes the same frame to each of its sockets in
/// turn. Only this loop may call it.
package final class DeflateCodec {
    /// Smaller payloads go out plain: deflate's block overhead would eat what it saves, and the client pays to
    /// inflate them. The same threshold as swift-websocket's default.
    package static let minimumPayloadBytes = 256
    /// The windows zlib can write a raw deflate stream with, as base-2 logarithms.
    package static let windowSizes = 9...15

    package enum InflateFailure: Error, Equatable {
        /// The message would inflate past the limit: refused before more than the limit is allocated.
        case tooLarge
        /// The bytes are not a deflate stream.
        case corrupt
    }

    /// Raw deflate with a window of `2^bits` bytes, made when a socket first needs it. Each holds about 256 KB.
    private var compressors: [ZlibCompressor?] = Array(repeating: nil, count: 16)
    /// The last encoded frame compressed with each window size, and what it compressed to (`nil`: it did not
    /// get smaller). Holding the input keeps its storage alive, so its address identifies it for as long as it
    /// is remembered.
    private var lastCompressed: [(input: EncodedFrame, output: EncodedFrame?)?] = Array(repeating: nil, count: 16)
    private let inflater: ZlibDecompressor

    package init() throws {
        inflater = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
    }

    /// `frame` compressed, with the first frame byte's RSV1 set; `nil` when it should go out as it is (too small,
    /// or no smaller compressed).
    package func compressed(_ frame: EncodedFrame, windowBits: Int) -> EncodedFrame? {
        guard frame.payloadLength >= Self.minimumPayloadBytes, Self.windowSizes.contains(windowBits) else { return nil }
        if let last = lastCompressed[windowBits], last.input.sharesBytes(with: frame) { return last.output }
        let output = deflate(frame.payload, windowBits: windowBits).map { EncodedFrame(compressedText: $0) }
        lastCompressed[windowBits] = (frame, output)
        return output
    }

    /// A message's payload compressed as RFC 7692 §7.2.1 has it: a sync-flushed raw deflate stream without its
    /// final `00 00 ff ff`. `nil` when compressing would not make it smaller.
    package func deflate(_ payload: ByteBuffer, windowBits: Int) -> ByteBuffer? {
        guard let compressor = compressor(windowBits: windowBits) else { return nil }
        defer { try? compressor.reset() }
        var input = payload
        var output = ByteBufferAllocator().buffer(capacity: compressor.maxSize(from: input))
        do {
            try compressor.deflate(from: &input, to: &output, flush: .sync)
        } catch {
            return nil
        }
        guard input.readableBytes == 0, output.readableBytes >= 4,
            output.getBytes(at: output.writerIndex - 4, length: 4) == [0, 0, 0xFF, 0xFF]
        else { return nil }
        output.moveWriterIndex(to: output.writerIndex - 4)
        return output.readableBytes < payload.readableBytes ? output : nil
    }

    /// A compressed message's payload inflated (RFC 7692 §7.2.2), never to more than `limit` bytes: a small
    /// message that would inflate to gigabytes stops at the limit.
    package func inflate(_ message: ByteBuffer, limit: Int) throws(InflateFailure) -> ByteBuffer {
        defer { try? inflater.reset() }
        var input = message
        input.writeBytes([0, 0, 0xFF, 0xFF])
        var output = ByteBufferAllocator().buffer(capacity: min(limit + 1, max(1024, input.readableBytes * 4)))
        while true {
            let before = (input.readableBytes, output.writerIndex)
            do {
                try inflater.inflate(from: &input, to: &output)
            } catch let error as CompressNIOError where error == .bufferOverflow {
                // The output is full and zlib may hold more, whether or not input is left: grow and go on.
                guard output.readableBytes <= limit else { throw .tooLarge }
                output.reserveCapacity(min(limit + 1, output.capacity * 2))
                continue
            } catch let error as CompressNIOError where error == .inputBufferOverflow {
                break
            } catch {
                throw .corrupt
            }
            // Returning with room to spare means all that can come out has. A stream that ended early (a block
            // marked final) leaves our four bytes unread and moves no more.
            if input.readableBytes == 0 || (input.readableBytes, output.writerIndex) == before { break }
        }
        guard output.readableBytes <= limit else { throw .tooLarge }
        return output
    }

    private func compressor(windowBits: Int) -> ZlibCompressor? {
        guard Self.windowSizes.contains(windowBits) else { return nil }
        if let compressor = compressors[windowBits] { return compressor }
        let compressor = try? ZlibCompressor(
            algorithm: .deflate, configuration: ZlibConfiguration(windowSize: Int32(windowBits)))
        compressors[windowBits] = compressor
        return compressor
    }
}
