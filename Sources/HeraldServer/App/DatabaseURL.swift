import Foundation
import PostgresNIO
import Vapor

/// Turns `DATABASE_URL` into a `PostgresClient` configuration. `sslmode=require` (or `verify-full`) asks for TLS;
/// loopback URLs default to plain TCP, as libpq's `prefer` would find no TLS on a local cluster anyway.
public enum DatabaseURL {
    public static func configuration(_ text: String, poolSize: Int) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else { throw ConfigurationError(setting: "DATABASE_URL", problem: "must be a postgres:// URL") }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = components.password.flatMap { $0.removingPercentEncoding }
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        let tls: PostgresClient.Configuration.TLS
        switch query["sslmode"] ?? "disable" {
        case "disable", "allow", "prefer": tls = .disable
        case "require":
            var insecure = TLSConfiguration.makeClientConfiguration()
            insecure.certificateVerification = .none
            tls = .require(insecure)
        case "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        case let other:
            throw ConfigurationError(setting: "DATABASE_URL", problem: "has an unknown sslmode '\(other)'")
        }
        var configuration: PostgresClient.Configuration
        if let socket = query["host"], socket.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: socket + "/.s.PGSQL.\(components.port ?? 5432)", username: user, password: password,
                database: database.isEmpty ? nil : database)
        } else {
            configuration = .init(
                host: components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1", port: components.port ?? 5432,
                username: user, password: password, database: database.isEmpty ? nil : database, tls: tls)
        }
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }
}
