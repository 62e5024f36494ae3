import NIOCore

/// A whole server-to-client WebSocket text frame, header included. Server frames are unmasked, so the bytes are
/// the same for every recipient: a notification is encoded once and the same buffer is written to each of its
/// sockets, below NIOWebSocket's encoder (``SessionHandler``), instead of being framed again per socket.
struct EncodedFrame: Sendable, Equatable {
    let bytes: ByteBuffer

    init(text payload: ByteBuffer) {
        let length = payload.readableBytes
        var bytes = ByteBufferAllocator().buffer(capacity: length + 10)
        bytes.writeInteger(UInt8(0x81))  // FIN, text
        if length < 126 {
            bytes.writeInteger(UInt8(length))
        } else if length <= Int(UInt16.max) {
            bytes.writeInteger(UInt8(126))
            bytes.writeInteger(UInt16(length))
        } else {
            bytes.writeInteger(UInt8(127))
            bytes.writeInteger(UInt64(length))
        }
        bytes.writeImmutableBuffer(payload)
        self.bytes = bytes
    }
}
