import Logging
import PostgresNIO

/// Where Herald's statements run: the pool, or one connection (a transaction, the listener, a migration).
///
/// Every statement goes through ``run(_:logger:file:line:)``, ``rows(_:as:logger:file:line:)`` or
/// ``value(_:as:logger:file:line:)``, which read the result to its end before returning. postgres-nio reports an
/// error that PostgreSQL raises after it has described the result (a failing `pg_notify`, a trigger that fires at
/// the end of a statement, a deadlock in one) through the row sequence, not through the call that sent the
/// statement. A statement run for its effect whose rows are dropped, or one read only up to its first row, can
/// therefore fail unseen: PostgreSQL rolls it back while the caller answers 2xx. Inside a transaction it is worse,
/// since the aborted transaction's COMMIT quietly becomes a ROLLBACK.
protocol StatementRunner: Sendable {
    /// The raw row sequence; use the reading methods below instead.
    func rowSequence(_ query: PostgresQuery, logger: Logger, file: String, line: Int) async throws
        -> PostgresRowSequence

    /// Every row of a prepared statement, all read before any is returned.
    func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, logger: Logger, file: String, line: Int
    ) async throws -> [Statement.Row]
}

extension StatementRunner {
    /// Runs `query` for its effect and waits until PostgreSQL has finished it, its rows read and dropped.
    func run(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws {
        for try await _ in try await rowSequence(query, logger: logger, file: file, line: line) {}
    }

    /// Every row of `query` decoded as `Columns`, all read before any is returned.
    func rows<each Column: PostgresDecodable>(
        _ query: PostgresQuery, as columns: (repeat each Column).Type, logger: Logger, file: String = #fileID,
        line: Int = #line
    ) async throws -> [(repeat each Column)] {
        var result: [(repeat each Column)] = []
        for try await row in try await rowSequence(query, logger: logger, file: file, line: line) {
            result.append(try row.decode(columns, file: file, line: line))
        }
        return result
    }

    /// Every row of `query` decoded by `decode`, all read before any is returned.
    func rows<Row>(
        _ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line,
        decode: (PostgresRow) throws -> Row
    ) async throws -> [Row] {
        var result: [Row] = []
        for try await row in try await rowSequence(query, logger: logger, file: file, line: line) {
            result.append(try decode(row))
        }
        return result
    }

    /// The first column of the first row of `query` (`nil` for no rows), after the rest of the result is read.
    func value<Value: PostgresDecodable>(
        _ query: PostgresQuery, as type: Value.Type, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> Value? {
        var first: Value?
        for try await row in try await rowSequence(query, logger: logger, file: file, line: line) {
            if first == nil { first = try row.decode(Value.self, file: file, line: line) }
        }
        return first
    }
}

extension PostgresClient: StatementRunner {
    func rowSequence(_ query: PostgresQuery, logger: Logger, file: String, line: Int) async throws
        -> PostgresRowSequence
    {
        try await self.query(query, logger: logger, file: file, line: line)
    }

    func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> [Statement.Row] {
        var result: [Statement.Row] = []
        for try await row in try await execute(statement, logger: logger, file: file, line: line) {
            result.append(row)
        }
        return result
    }
}

extension PostgresConnection: StatementRunner {
    func rowSequence(_ query: PostgresQuery, logger: Logger, file: String, line: Int) async throws
        -> PostgresRowSequence
    {
        try await self.query(query, logger: logger, file: file, line: line)
    }

    func rows<Statement: PostgresPreparedStatement>(
        _ statement: Statement, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> [Statement.Row] {
        var result: [Statement.Row] = []
        for try await row in try await execute(statement, logger: logger, file: file, line: line) {
            result.append(row)
        }
        return result
    }
}
