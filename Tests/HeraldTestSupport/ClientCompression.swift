import CompressNIO
import NIOCore

/// `permessage-deflate` as a client does it (RFC 7692 §7.2), with zlib directly rather than the server's
/// ``DeflateCodec``, so tests check Herald's bytes against an independent coder.
public enum ClientCompression {
    /// `bytes` compressed as one message, without the final `00 00 ff ff`.
    public static func deflate(_ bytes: [UInt8]) throws -> [UInt8] {
        let deflater = try ZlibCompressor(algorithm: .deflate)
        var input = ByteBuffer(bytes: bytes)
        var output = ByteBuffer()
        output.reserveCapacity(deflater.maxSize(from: input))
        try deflater.deflate(from: &input, to: &output, flush: .sync)
        return Array(output.readableBytesView.dropLast(4))
    }

    /// A compressed message's text: the payload plus the `00 00 ff ff` the sender took off, inflated.
    public static func inflate(_ payload: some Sequence<UInt8>) throws -> String {
        let inflater = try ZlibDecompressor(algorithm: .deflate, windowSize: 15)
        var input = ByteBuffer(bytes: Array(payload) + [0, 0, 0xFF, 0xFF])
        var output = ByteBuffer()
        output.reserveCapacity(1 << 20)
        do { try inflater.inflate(from: &input, to: &output) } catch let error as CompressNIOError
            where error == .inputBufferOverflow
        {}
        return String(buffer: output)
    }
}
