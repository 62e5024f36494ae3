import Foundation
import NIOSSL
import PostgresNIO
import Vapor

/// Turns `DATABASE_URL` into a `PostgresClient` configuration.
///
/// TLS follows libpq's `sslmode`: `disable`; `allow` and `prefer` (TLS when the server offers it, unverified);
/// `require` (TLS, unverified); `verify-ca` and `verify-full` (TLS with the system's trust roots). Without
/// `sslmode`, a loopback host or a Unix socket means `disable` (a local cluster has no TLS to offer) and any other
/// host means `prefer`, so a URL naming a remote database never sends the password in the clear when the server
/// can do better.
public enum DatabaseURL {
    /// The pool configuration for `text`; with `timeouts`, every connection starts with them.
    public static func configuration(
        _ text: String, poolSize: Int, timeouts: DatabaseTimeouts? = nil
    ) throws -> PostgresClient.Configuration {
        let parts = try parse(text)
        var configuration: PostgresClient.Configuration
        if let socket = parts.socketPath {
            configuration = .init(
                unixSocketPath: socket, username: parts.user, password: parts.password, database: parts.database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch parts.tls {
            case .none: tls = .disable
            case .prefer(let configuration): tls = .prefer(configuration)
            case .require(let configuration): tls = .require(configuration)
            }
            configuration = .init(
                host: parts.host, port: parts.port, username: parts.user, password: parts.password,
                database: parts.database, tls: tls)
        }
        // Without postgres-nio's keep-alive queries: see ``keepAliveBehavior``.
        configuration.options.maximumConnections = poolSize
        configuration.options.minimumConnections = 0
        configuration.options.keepAliveBehavior = keepAliveBehavior
        configuration.options.connectTimeout = .seconds(connectSeconds)
        configuration.options.additionalStartupParameters = startupParameters(timeouts)
        return configuration
    }

    /// A single connection's configuration for `text` that starts as a pooled one does (plans, time limits and
    /// connect timeout): for a ``DedicatedConnection``, which does the pool's work outside it.
    static func dedicatedConfiguration(
        _ text: String, timeouts: DatabaseTimeouts
    ) throws -> PostgresConnection.Configuration {
        var configuration = try connectionConfiguration(text)
        configuration.options.connectTimeout = .seconds(connectSeconds)
        configuration.options.additionalStartupParameters = startupParameters(timeouts)
        return configuration
    }

    /// How long opening a connection may take before the statement waiting for it fails.
    private static let connectSeconds: Int64 = 3

    private static func startupParameters(_ timeouts: DatabaseTimeouts?) -> [(String, String)] {
        [genericPlans] + (timeouts?.startupParameters ?? [])
    }

    /// None: the pool sends no keep-alive queries.
    ///
    /// postgres-nio arms its keep-alive timer whenever a connection goes back to the pool, a task group of two
    /// tasks around a `Task.sleep`, and cancels it at the next lease, so every query paid for one
    /// (vapor/postgres-nio#511). What the queries are for, traffic on a connection that a NAT or a load balancer
    /// would otherwise forget while it idles, this pool does not need: with no minimum of connections to keep,
    /// every connection idle for the pool's idle timeout (60 s) is closed, long before such a device forgets one.
    /// (A minimum would drop the idle timer as well, but postgres-nio 1.33 then stops on a failed precondition
    /// once a connection dies and the pool is below it: seen in the integration tests.)
    static let keepAliveBehavior: PostgresClient.Configuration.Options.KeepAliveBehavior? = nil

    /// Pooled connections plan each prepared statement once, for every parameter value. Left to choose
    /// (`plan_cache_mode = auto`), PostgreSQL kept planning the hot statements on every execution: it prices
    /// `audience = ANY($1)` over an array it cannot see at ten elements, so the generic plan always looked dearer
    /// than the custom ones it measured. Planning was most of a list page's and a count's time in PostgreSQL. Every
    /// hot statement keeps its one index range per audience under the generic plan on every shape of data
    /// (`QueryPlanTests`); the LISTEN connection and migrations keep PostgreSQL's default.
    static let genericPlans = ("plan_cache_mode", "force_generic_plan")

    /// A single connection's configuration for `text`, for the LISTEN connection, which must not be pooled.
    public static func connectionConfiguration(_ text: String) throws -> PostgresConnection.Configuration {
        let parts = try parse(text)
        if let socket = parts.socketPath {
            return .init(
                unixSocketPath: socket, username: parts.user, password: parts.password, database: parts.database)
        }
        let tls: PostgresConnection.Configuration.TLS
        switch parts.tls {
        case .none: tls = .disable
        case .prefer(let configuration): tls = .prefer(try NIOSSLContext(configuration: configuration))
        case .require(let configuration): tls = .require(try NIOSSLContext(configuration: configuration))
        }
        return .init(
            host: parts.host, port: parts.port, username: parts.user, password: parts.password,
            database: parts.database, tls: tls)
    }

    /// Where a URL points, for log lines: `user@host:port/database`, never the password.
    public static func target(_ text: String) -> String {
        guard let parts = try? parse(text) else { return "(unparsable DATABASE_URL)" }
        let place = parts.socketPath ?? "\(parts.host):\(parts.port)"
        return "\(parts.user)@\(place)/\(parts.database ?? parts.user)"
    }

    /// The TLS a URL asks for.
    enum TLSMode {
        case none
        case prefer(TLSConfiguration)
        case require(TLSConfiguration)
    }

    private struct Parts {
        var user: String
        var password: String?
        var host: String
        var port: Int
        var database: String?
        var socketPath: String?
        var tls: TLSMode
    }

    static func isLoopback(_ host: String) -> Bool {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return bare == "localhost" || bare == "::1" || bare.hasPrefix("127.")
    }

    /// The TLS `text` asks for (for tests and the start-up log).
    static func tlsMode(_ text: String) throws -> String {
        switch try parse(text).tls {
        case .none: "disable"
        case .prefer: "prefer"
        case .require(let configuration): configuration.certificateVerification == .none ? "require" : "verify"
        }
    }

    private static func parse(_ text: String) throws -> Parts {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme)
        else { throw ConfigurationError(setting: "DATABASE_URL", problem: "must be a postgres:// URL") }
        let query = Dictionary(
            (components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        var database = components.path
        if database.hasPrefix("/") { database.removeFirst() }
        let port = components.port ?? 5432
        let socketPath = query["host"].flatMap { $0.hasPrefix("/") ? $0 + "/.s.PGSQL.\(port)" : nil }
        let host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        var unverified = TLSConfiguration.makeClientConfiguration()
        unverified.certificateVerification = .none
        let local = socketPath != nil || isLoopback(host)
        let tls: TLSMode
        switch query["sslmode"] ?? (local ? "disable" : "prefer") {
        case "disable": tls = .none
        case "allow", "prefer": tls = .prefer(unverified)
        case "require": tls = .require(unverified)
        case "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        case let other:
            throw ConfigurationError(setting: "DATABASE_URL", problem: "has an unknown sslmode '\(other)'")
        }
        return Parts(
            user: components.user.flatMap { $0.removingPercentEncoding } ?? "postgres",
            password: components.password.flatMap { $0.removingPercentEncoding }, host: host, port: port,
            database: database.isEmpty ? nil : database, socketPath: socketPath, tls: tls)
    }
}
