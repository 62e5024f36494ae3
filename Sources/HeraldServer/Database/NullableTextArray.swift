import NIOCore
import PostgresNIO

/// A `text[]` parameter whose elements may be NULL, which postgres-nio's array encoding does not offer (its
/// `[String]` has no NULL element). It lets a statement take a column of many rows as one array, NULLs included,
/// and `unnest` it (``PublishBatchStatement``).
///
/// The binary array format: dimensions, a has-NULL flag, the element type, then per dimension its length and
/// lower bound, then each element as a length (-1 for NULL) and its bytes.
struct NullableTextArray: PostgresNonThrowingEncodable, Equatable {
    var elements: [String?]

    init(_ elements: [String?]) {
        self.elements = elements
    }

    static var psqlType: PostgresDataType { .textArray }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(
        into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>
    ) {
        buffer.writeInteger(Int32(1))
        buffer.writeInteger(Int32(elements.contains(nil) ? 1 : 0))
        buffer.writeInteger(PostgresDataType.text.rawValue)
        buffer.writeInteger(Int32(elements.count))
        buffer.writeInteger(Int32(1))
        for element in elements {
            guard let element else {
                buffer.writeInteger(Int32(-1))
                continue
            }
            let lengthIndex = buffer.writerIndex
            buffer.writeInteger(Int32(0))
            let written = buffer.writeString(element)
            buffer.setInteger(Int32(written), at: lengthIndex)
        }
    }
}
