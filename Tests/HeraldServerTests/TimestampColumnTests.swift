import PostgresNIO
import Testing

@testable import HeraldServer

/// Pages and replays read timestamps as binary `timestamptz` and format them in Swift, while the NOTIFY payload of
/// a publish still formats `created_at` in SQL (`herald_ts`). A client sees one notification through both, so the
/// two must write the same text for every instant: before 1970 and 2000, on leap days, at each microsecond
/// boundary of a millisecond.
@Suite("Timestamp columns")
struct TimestampColumnTests {
    @Test("binary timestamptz formatted in Swift reads exactly as herald_ts writes it")
    func agreesWithHeraldTS() async throws {
        try await TestServer.with([:]) { server in
            let rows = try await server.app.postgres.query(
                """
                SELECT herald_ts(t), t FROM (
                    SELECT timestamptz '1940-01-01 00:00:00+00' + (n * 97654321123) * interval '1 microsecond'
                    FROM generate_series(0, 20000) AS n
                    UNION ALL
                    SELECT unnest(ARRAY[
                        '1969-12-31 23:59:59.999999+00', '1970-01-01 00:00:00+00', '1999-12-31 23:59:59.999999+00',
                        '2000-01-01 00:00:00+00', '2000-01-01 00:00:00.000999+00', '2024-02-29 23:59:59.9995+00',
                        '2026-12-02 06:59:28.123999+00', '9999-12-31 23:59:59.999999+00'
                    ]::timestamptz[])
                ) AS v(t)
                """
            ).collect()
            #expect(rows.count == 20_009)
            var differing: [String] = []
            for row in rows {
                let (expected, column) = try row.decode((String, TimestampColumn).self)
                if column.text != expected { differing.append("\(expected) ≠ \(column.text)") }
            }
            #expect(differing.isEmpty, "\(differing.prefix(5))")
        }
    }
}
