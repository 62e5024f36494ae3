/// The limits every pooled connection starts with, derived from `REQUEST_TIMEOUT` so that PostgreSQL gives up
/// before the request does (Migrations and the LISTEN connection do without them).
///
/// - `statement_timeout`, 80 % of the request's time: a slow statement is cancelled and its transaction rolled back
///   while the client can still be told "timed out; nothing was changed" (``DeadlineMiddleware``).
/// - `lock_timeout`, 40 %: a publish waiting for the publish lock, or a read-all for a counter row, gives up with a
///   503 the caller retries instead of queueing behind a stalled holder.
/// - `idle_in_transaction_session_timeout`, twice the request's time: a session that stalls inside its transaction
///   (a process frozen while holding the publish lock) is ended by PostgreSQL, which releases its locks.
public struct DatabaseTimeouts: Sendable, Equatable {
    public var statement: Duration
    public var lock: Duration
    public var idleInTransaction: Duration

    public init(requestTimeout seconds: Double) {
        statement = .milliseconds(Int64(seconds * 800))
        lock = .milliseconds(Int64(seconds * 400))
        idleInTransaction = .milliseconds(Int64(seconds * 2000))
    }

    var startupParameters: [(String, String)] {
        [
            ("statement_timeout", Self.milliseconds(statement)), ("lock_timeout", Self.milliseconds(lock)),
            ("idle_in_transaction_session_timeout", Self.milliseconds(idleInTransaction)),
        ]
    }

    private static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
    }
}
