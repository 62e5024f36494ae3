import NIOCore
import PostgresNIO

extension ByteBuffer {
    /// A binary `int8` or `timestamptz` cell's value: exactly 8 bytes, big-endian. Anything else is a failure to
    /// decode, not a value read from a prefix.
    func binaryInt64() throws -> Int64 {
        guard readableBytes == 8, let value = getInteger(at: readerIndex, as: Int64.self) else {
            throw PostgresDecodingError.Code.failure
        }
        return value
    }
}
