import NIOCore
import PostgresNIO

/// A `timestamptz` column read as the wire's text (``Timestamp/string(postgresMicroseconds:)``).
///
/// Pages and replays used to select every timestamp through SQL's `herald_ts` (`to_char`), which cost
/// PostgreSQL about 0.2 ms of a 50-item page; the binary value is 8 bytes to read and a few digits to write here.
struct TimestampColumn: PostgresDecodable {
    let text: String

    init(
        from buffer: inout ByteBuffer, type: PostgresDataType, format: PostgresFormat,
        context: PostgresDecodingContext<some PostgresJSONDecoder>
    ) throws {
        guard type == .timestamptz else { throw PostgresDecodingError.Code.typeMismatch }
        guard format == .binary else { throw PostgresDecodingError.Code.failure }
        text = Timestamp.string(postgresMicroseconds: try buffer.binaryInt64())
    }
}
