import NIOCore
import PostgresNIO

/// A page of the inbox as the REST API answers it: the items' JSON array, written straight from the rows' cells,
/// and the items' ids, newest first.
///
/// A page used to become an ``InboxItem`` per row, a `String` per text cell and timestamp, and then JSON copied
/// from those strings. A text cell's bytes are already the UTF-8 the JSON needs, `data` comes as jsonb's JSON text
/// and a timestamp is 8 bytes, so each cell is now escaped or formatted once, in place, and the member names are
/// quoted once for all pages. For a page of 50 that took reading and writing the rows from 20 % of the server's
/// `perf` samples to 14 %; most of the rest is postgres-nio's cell iteration, which has no cheaper public API.
/// The JSON is the same as ``InboxItem/write(to:)`` writes for the item (`InboxPageTests` compares them).
public struct InboxPage: Sendable {
    public private(set) var json: ByteBuffer
    public private(set) var ids: [Int64]

    /// Rows selected with ``InboxStore/recipientColumns``, in page order.
    init(rows: [PostgresRow]) throws {
        var writer = JSONWriter(reservingCapacity: 512 * max(rows.count, 1))
        ids = []
        ids.reserveCapacity(rows.count)
        writer.beginArray()
        for row in rows { ids.append(try Self.write(row, to: &writer)) }
        writer.endArray()
        json = writer.buffer
    }

    /// Writes one row as an item and returns its id. The cells come in ``InboxStore/recipientColumns``' order,
    /// which is the members' order except that `is_read` is written from the `read_at` cell that follows it.
    private static func write(_ row: PostgresRow, to writer: inout JSONWriter) throws -> Int64 {
        var cells = row.makeIterator()
        func nullable(_ type: PostgresDataType) throws -> ByteBuffer? {
            guard let cell = cells.next() else { throw PostgresDecodingError.Code.missingData }
            guard cell.dataType == type, cell.format == .binary else { throw PostgresDecodingError.Code.typeMismatch }
            return cell.bytes
        }
        func required(_ type: PostgresDataType) throws -> ByteBuffer {
            guard let bytes = try nullable(type) else { throw PostgresDecodingError.Code.missingData }
            return bytes
        }
        /// An `int8` or a `timestamptz` cell.
        func int64(_ type: PostgresDataType) throws -> Int64? {
            try nullable(type)?.binaryInt64()
        }
        func requiredInt64(_ type: PostgresDataType) throws -> Int64 {
            try required(type).binaryInt64()
        }
        func timestamp(_ micros: Int64?) {
            if let micros { writer.timestamp(postgresMicroseconds: micros) } else { writer.null() }
        }
        var id: Int64 = 0
        var readAt: Int64?
        writer.beginObject()
        for (member, key) in zip(InboxItem.Member.allCases, InboxItem.Member.keys) {
            writer.key(key)
            switch member {
            case .id:
                id = try requiredInt64(.int8)
                writer.int(id)
            case .type, .priority, .title, .message: writer.string(utf8: try required(.text))
            case .actionURL, .locationID, .collapseKey: writer.string(utf8: try nullable(.text))
            case .data: writer.raw(utf8: try required(.text))
            case .isRead:
                readAt = try int64(.timestamptz)
                writer.bool(readAt != nil)
            case .readAt: timestamp(readAt)
            case .createdAt: timestamp(try requiredInt64(.timestamptz))
            case .expiresAt, .deliveredAt: timestamp(try int64(.timestamptz))
            }
        }
        writer.endObject()
        return id
    }
}
