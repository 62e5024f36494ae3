import Foundation
import Logging
import NIOCore

/// The validated settings of one Herald process. Built once at start-up and passed down; nothing reads
/// the environment after this.
public struct HeraldConfiguration: Sendable {
    public enum LimitPolicy: String, Sendable {
        case evictOldest = "evict_oldest"
        case reject
    }

    public enum LogFormat: String, Sendable {
        case json
        case text
    }

    public static let baseNotificationTypes: [String] = [
        "appointment", "performance_alert", "team_update", "training", "achievement", "system", "revenue",
        "client", "booking", "payment", "payout",
    ]

    public var databaseURL: String?
    public var databasePoolSize: Int
    public var host: String
    public var port: Int
    public var instanceID: String
    public var migrationsDirectory: String
    public var jwtSecret: String?
    public var jwtPublicKeyFile: String?
    public var jwtJWKSFile: String?
    public var jwtIssuer: String?
    public var jwtAudience: String?
    public var jwtLeeway: Double
    public var notificationTypes: Set<String>
    public var heartbeatInterval: Double
    public var maxConnectionsPerUser: Int
    public var limitPolicy: LimitPolicy
    public var maxMessageBytes: Int
    public var resumeMax: Int
    public var sendBufferBytes: Int
    /// Whether sockets may negotiate `permessage-deflate` (RFC 7692).
    public var compression: Bool
    /// Seconds an instance's sockets keep counting for the cluster after it stops renewing its lease (it died).
    public var instanceLease: Double
    /// Seconds a user counts as at the locations of their latest token (``MembershipStore``).
    public var membershipMaxAge: Double
    /// Seconds an idempotency key is remembered (``SweepStore``).
    public var idempotencyWindow: Double
    /// Seconds a request may take before it is answered 503 (``DeadlineMiddleware``, ``DatabaseTimeouts``).
    public var requestTimeout: Double
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// Sockets this instance holds at most (0: derived from the open-file limit).
    public var maxSockets: Int
    /// Handshakes per second per client address (0: unlimited).
    public var connectRate: Double
    /// Adds the Autobahn echo endpoint; never for production.
    public var conformanceEcho: Bool
    /// Peers whose `X-Forwarded-For` names the real client (the nginx in front).
    public var trustedProxies: Set<String>

    /// Reads the settings from `environment`, overridden by `--flag value` / `--flag=value` in `arguments`.
    public init(environment: [String: String], arguments: [String] = []) throws {
        var values = environment
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let (flag, inline) = Self.splitFlag(argument)
            guard let setting = Setting.all.first(where: { $0.flag == flag }) else {
                throw ConfigurationError(setting: argument, problem: "is not a known flag (see --help)")
            }
            if let inline {
                values[setting.name] = inline
            } else {
                guard index + 1 < arguments.count else {
                    throw ConfigurationError(setting: setting.name, problem: "flag \(flag) needs a value")
                }
                index += 1
                values[setting.name] = arguments[index]
            }
            index += 1
        }
        let reader = Reader(values: values)
        databaseURL = reader.text("DATABASE_URL")
        // More connections than PostgreSQL has cores to run them only time-slice each other: at 32 concurrent
        // requests on 2 cores, 16 connections gave the unread count a p99 of 81 ms and 4 gave 19 ms, with more
        // throughput. Requests beyond the pool wait in its first-in, first-out queue instead of the kernel's.
        let poolSize = try reader.integer("DATABASE_POOL_SIZE", in: 0...1000)
        databasePoolSize = poolSize > 0 ? poolSize : max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
        host = reader.text("HOST") ?? "127.0.0.1"
        port = try reader.integer("PORT", in: 0...65535)
        instanceID = reader.text("INSTANCE_ID") ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())"
        migrationsDirectory = reader.text("MIGRATIONS_DIR") ?? "Migrations"
        jwtSecret = reader.text("JWT_SECRET")
        jwtPublicKeyFile = reader.text("JWT_PUBLIC_KEY_FILE")
        jwtJWKSFile = reader.text("JWT_JWKS_FILE")
        jwtIssuer = reader.text("JWT_ISSUER")
        jwtAudience = reader.text("JWT_AUDIENCE")
        jwtLeeway = try reader.number("JWT_LEEWAY", in: 0...86400)
        let extra = (reader.text("NOTIFICATION_TYPES") ?? "").split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        for type in extra where type.count > 64 || !type.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
            throw ConfigurationError(setting: "NOTIFICATION_TYPES", problem: "has an invalid type name '\(type)'")
        }
        notificationTypes = Set(Self.baseNotificationTypes + extra)
        heartbeatInterval = try reader.number("WS_HEARTBEAT_INTERVAL", in: 0.05...3600)
        maxConnectionsPerUser = try reader.integer("WS_MAX_CONNECTIONS_PER_USER", in: 1...10000)
        limitPolicy = try reader.choice("WS_LIMIT_POLICY", LimitPolicy.self)
        maxMessageBytes = try reader.integer("WS_MAX_MESSAGE_BYTES", in: 128...16_777_216)
        resumeMax = try reader.integer("WS_RESUME_MAX", in: 0...100_000)
        sendBufferBytes = try reader.integer("WS_SEND_BUFFER_BYTES", in: 1024...1_073_741_824)
        compression = try reader.flag("WS_COMPRESSION", default: true)
        instanceLease = try reader.number("INSTANCE_LEASE", in: 3...300)
        membershipMaxAge = try reader.number("MEMBERSHIP_MAX_AGE", in: 60...315_360_000)
        idempotencyWindow = try reader.number("IDEMPOTENCY_WINDOW", in: 60...31_536_000)
        requestTimeout = try reader.number("REQUEST_TIMEOUT", in: 0.5...300)
        logLevel = try reader.choice("LOG_LEVEL", Logger.Level.self)
        logFormat = try reader.choice("LOG_FORMAT", LogFormat.self)
        maxSockets = try reader.integer("WS_MAX_SOCKETS", in: 0...10_000_000)
        connectRate = try reader.number("WS_CONNECT_RATE", in: 0...1_000_000)
        conformanceEcho = try reader.flag("CONFORMANCE_ECHO")
        trustedProxies = []
        for proxy in (reader.text("TRUSTED_PROXIES") ?? "").split(separator: ",") {
            let address = proxy.trimmingCharacters(in: .whitespaces)
            guard (try? SocketAddress(ipAddress: address, port: 0)) != nil else {
                throw ConfigurationError(setting: "TRUSTED_PROXIES", problem: "has an invalid IP address '\(address)'")
            }
            trustedProxies.insert(address)
        }
    }

    /// The settings `herald serve` and `herald migrate` cannot start without.
    public func requireDatabase() throws -> String {
        guard let databaseURL else { throw ConfigurationError(setting: "DATABASE_URL", problem: "is required") }
        guard URL(string: databaseURL)?.scheme.map({ ["postgres", "postgresql"].contains($0) }) == true else {
            throw ConfigurationError(setting: "DATABASE_URL", problem: "must be a postgres:// URL")
        }
        return databaseURL
    }

    /// Loads the key material named by the JWT settings into a verifier.
    public func makeTokenVerifier() async throws -> TokenVerifier {
        guard jwtSecret != nil || jwtPublicKeyFile != nil || jwtJWKSFile != nil else {
            throw ConfigurationError(
                setting: "JWT_SECRET", problem: "is required (or JWT_PUBLIC_KEY_FILE / JWT_JWKS_FILE)")
        }
        if let secret = jwtSecret, secret.utf8.count < 32 {
            throw ConfigurationError(setting: "JWT_SECRET", problem: "must be at least 32 bytes (HS256 key size)")
        }
        return try await TokenVerifier.make(
            secret: jwtSecret,
            publicKeyPEM: try jwtPublicKeyFile.map { try Self.read($0, setting: "JWT_PUBLIC_KEY_FILE") },
            jwksJSON: try jwtJWKSFile.map { try Self.read($0, setting: "JWT_JWKS_FILE") }, issuer: jwtIssuer,
            audience: jwtAudience, leeway: jwtLeeway)
    }

    private static func read(_ path: String, setting: String) throws -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError(setting: setting, problem: "cannot be read from \(path)")
        }
        return text
    }

    private static func splitFlag(_ argument: String) -> (String, String?) {
        guard let equals = argument.firstIndex(of: "=") else { return (argument, nil) }
        return (String(argument[..<equals]), String(argument[argument.index(after: equals)...]))
    }

    /// Reads typed values with the defaults of ``Setting/all``, naming the setting in every failure.
    private struct Reader {
        let values: [String: String]

        func text(_ name: String) -> String? {
            let value = values[name] ?? Setting.all.first(where: { $0.name == name })?.defaultValue
            return value?.isEmpty == false ? value : nil
        }

        func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int {
            try parsed(name, in: range, as: "an integer")
        }

        func number(_ name: String, in range: ClosedRange<Double>) throws -> Double {
            try parsed(name, in: range, as: "a number")
        }

        /// The setting as a `Value` within `range`, or the one-line error that names it.
        private func parsed<Value: LosslessStringConvertible & Comparable>(
            _ name: String, in range: ClosedRange<Value>, as kind: String
        ) throws -> Value {
            let raw = text(name) ?? ""
            guard let value = Value(raw), range.contains(value) else {
                throw ConfigurationError(
                    setting: name,
                    problem: "must be \(kind) from \(range.lowerBound) to \(range.upperBound) (got '\(raw)')")
            }
            return value
        }

        func flag(_ name: String, default: Bool = false) throws -> Bool {
            switch (text(name) ?? String(`default`)).lowercased() {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            case let raw: throw ConfigurationError(setting: name, problem: "must be true or false (got '\(raw)')")
            }
        }

        func choice<Choice: RawRepresentable & CaseIterable>(_ name: String, _ type: Choice.Type) throws -> Choice
        where Choice.RawValue == String {
            let raw = text(name) ?? ""
            guard let value = Choice(rawValue: raw) else {
                let allowed = Choice.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigurationError(setting: name, problem: "must be one of \(allowed) (got '\(raw)')")
            }
            return value
        }
    }
}

extension HeraldConfiguration.LimitPolicy: CaseIterable {}
extension HeraldConfiguration.LogFormat: CaseIterable {}
