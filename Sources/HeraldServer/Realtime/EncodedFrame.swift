import NIOCore

/// A whole server-to-client WebSocket text frame, header included. Server frames are unmasked, so the bytes are
/// the same for every recipient: a notification is encoded once and the same buffer is written to each of its
/// sockets (``WireFrame/encoded(_:)``), instead of being framed again per socket. Sockets that negotiated
/// `permessage-deflate` get a compressed copy, made once per event loop (``DeflateCodec``).
package struct EncodedFrame: Sendable, Equatable {
    package let bytes: ByteBuffer

    package init(text payload: ByteBuffer) {
        self.init(firstByte: 0x81, payload: payload)  // FIN, text
    }

    /// A text message compressed by `permessage-deflate`, which RSV1 marks (RFC 7692 §6).
    package init(compressedText payload: ByteBuffer) {
        self.init(firstByte: 0xC1, payload: payload)  // FIN, RSV1, text
    }

    private init(firstByte: UInt8, payload: ByteBuffer) {
        let length = payload.readableBytes
        var bytes = ByteBufferAllocator().buffer(capacity: length + 10)
        bytes.writeInteger(firstByte)
        WireFrameEncoder.writeLength(length, to: &bytes)
        bytes.writeImmutableBuffer(payload)
        self.bytes = bytes
    }

    /// The header's length: two bytes, then two or eight more for a 16- or 64-bit length (RFC 6455 §5.2).
    private var headerLength: Int {
        switch bytes.getInteger(at: bytes.readerIndex + 1, as: UInt8.self) {
        case 126: 4
        case 127: 10
        default: 2
        }
    }

    package var payloadLength: Int { bytes.readableBytes - headerLength }

    package var payload: ByteBuffer {
        bytes.getSlice(at: bytes.readerIndex + headerLength, length: payloadLength) ?? ByteBuffer()
    }

    /// Whether both are views of the same bytes in memory, which is cheaper to tell than whether they are equal.
    /// Sound only while both are alive: a freed buffer's address can be reused.
    func sharesBytes(with other: EncodedFrame) -> Bool {
        guard bytes.readableBytes == other.bytes.readableBytes else { return false }
        let mine = bytes.withUnsafeReadableBytes { $0.baseAddress }
        return mine == other.bytes.withUnsafeReadableBytes { $0.baseAddress }
    }
}
