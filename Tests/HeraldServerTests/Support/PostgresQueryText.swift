import PostgresNIO

/// Test-only raw SQL, for seeding and inspecting the database behind a server.
enum PostgresQueryText {
    static func make(_ sql: String) -> PostgresQuery { PostgresQuery(unsafeSQL: sql) }
}
