import NIOCore

/// A file Herald serves from memory, with an ETag so browsers revalidate cheaply and always get the copy that
/// matches the running server.
struct WebAsset: Sendable {
    let contentType: String
    let body: ByteBuffer
    let etag: String

    init(_ bytes: [UInt8], contentType: String) {
        self.contentType = contentType
        body = ByteBuffer(bytes: bytes)
        // FNV-1a: the tag only has to change when the bytes do; nothing relies on it being hard to forge.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        etag = "\"\(String(hash, radix: 16))-\(bytes.count)\""
    }
}
