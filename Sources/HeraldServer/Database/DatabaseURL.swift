import Foundation
import NIOSSL
import PostgresNIO
import Vapor

/// Turns `DATABASE_URL` into a `PostgresClient` configuration. `sslmode=require` (or `verify-full`) asks for TLS;
/// loopback URLs default to plain TCP, as libpq's `prefer` would find no TLS on a local cluster anyway.
public enum DatabaseURL {
    /// The pool configuration for `text`.
    public static func configuration(_ text: String, poolSize: Int) throws -> PostgresClient.Configuration {
        let parts = try parse(text)
        var configuration: PostgresClient.Configuration
        if let socket = parts.socketPath {
            configuration = .init(
                unixSocketPath: socket, username: parts.user, password: parts.password, database: parts.database)
        } else {
            configuration = .init(
                host: parts.host, port: parts.port, username: parts.user, password: parts.password,
                database: parts.database, tls: parts.tls.map { .require($0) } ?? .disable)
        }
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(3)
        return configuration
    }

    /// A single connection's configuration for `text`, for the LISTEN connection, which must not be pooled.
    public static func connectionConfiguration(_ text: String) throws -> PostgresConnection.Configuration {
        let parts = try parse(text)
        if let socket = parts.socketPath {
            return .init(
                unixSocketPath: socket, username: parts.user, password: parts.password, database: parts.database)
        }
        var tls = PostgresConnection.Configuration.TLS.disable
        if let configuration = parts.tls { tls = .require(try NIOSSLContext(configuration: configuration)) }
        return .init(
            host: parts.host, port: parts.port, username: parts.user, password: parts.password,
            database: parts.database, tls: tls)
    }

    private struct Parts {
        var user: String
        var password: String?
        var host: String
        var port: Int
        var database: String?
        var socketPath: String?
        var tls: TLSConfiguration?
    }

    private static func parse(_ text: String) throws -> Parts {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else { throw ConfigurationError(setting: "DATABASE_URL", problem: "must be a postgres:// URL") }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        var tls: TLSConfiguration?
        switch query["sslmode"] ?? "disable" {
        case "disable", "allow", "prefer": tls = nil
        case "require":
            var insecure = TLSConfiguration.makeClientConfiguration()
            insecure.certificateVerification = .none
            tls = insecure
        case "verify-ca", "verify-full": tls = .makeClientConfiguration()
        case let other:
            throw ConfigurationError(setting: "DATABASE_URL", problem: "has an unknown sslmode '\(other)'")
        }
        let port = components.port ?? 5432
        let socketPath = query["host"].flatMap { $0.hasPrefix("/") ? $0 + "/.s.PGSQL.\(port)" : nil }
        return Parts(
            user: components.user.flatMap { $0.removingPercentEncoding } ?? "postgres",
            password: components.password.flatMap { $0.removingPercentEncoding },
            host: components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1", port: port,
            database: database.isEmpty ? nil : database, socketPath: socketPath, tls: tls)
    }
}
