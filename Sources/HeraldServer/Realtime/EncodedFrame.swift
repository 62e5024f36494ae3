import NIOCore

/// A whole server-to-client WebSocket text frame, header included. Server frames are unmasked, so the bytes are
/// the same for every recipient: a notification is encoded once and the same buffer is written to each of its
/// sockets (``WireFrame/encoded(_:)``), instead of being framed again per socket.
package struct EncodedFrame: Sendable, Equatable {
    package let bytes: ByteBuffer

    package init(text payload: ByteBuffer) {
        let length = payload.readableBytes
        var bytes = ByteBufferAllocator().buffer(capacity: length + 10)
        bytes.writeInteger(UInt8(0x81))  // FIN, text
        WireFrameEncoder.writeLength(length, to: &bytes)
        bytes.writeImmutableBuffer(payload)
        self.bytes = bytes
    }
}
