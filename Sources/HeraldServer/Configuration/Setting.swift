/// One setting: an environment variable, and the flag that overrides it.
public struct Setting: Sendable {
    public let name: String
    public let help: String
    public let defaultValue: String?

    public init(_ name: String, _ help: String, default defaultValue: String? = nil) {
        self.name = name
        self.help = help
        self.defaultValue = defaultValue
    }

    /// `DATABASE_URL` is set with `--database-url`.
    public var flag: String { "--" + name.lowercased().replacingOccurrences(of: "_", with: "-") }

    public static let all: [Setting] = [
        Setting("DATABASE_URL", "PostgreSQL URL, e.g. postgres://user:pass@127.0.0.1:5432/herald"),
        Setting(
            "DATABASE_POOL_SIZE",
            "pooled PostgreSQL connections per instance, besides its LISTEN and group-commit ones (0: twice the cores, "
                + "at least 4)", default: "0"),
        Setting("HOST", "address to listen on", default: "127.0.0.1"),
        Setting("PORT", "port to listen on", default: "8000"),
        Setting("INSTANCE_ID", "name of this instance in status and logs (default: host-pid)"),
        Setting(
            "INSTANCE_LEASE",
            "seconds after which a silent (dead) instance's sockets stop counting for the cluster; renewed every third",
            default: "10"),
        Setting("MIGRATIONS_DIR", "folder of the SQL migrations", default: "Migrations"),
        Setting("JWT_SECRET", "HS256 secret"),
        Setting("JWT_PUBLIC_KEY_FILE", "PEM file with an RS256 or ES256 public key"),
        Setting("JWT_JWKS_FILE", "JWKS file with RS256/ES256 public keys"),
        Setting("JWT_ISSUER", "required iss claim"),
        Setting("JWT_AUDIENCE", "required aud claim"),
        Setting("JWT_LEEWAY", "seconds of clock skew allowed for exp/nbf/iat", default: "0"),
        Setting("NOTIFICATION_TYPES", "extra notification types, comma-separated", default: ""),
        Setting("WS_HEARTBEAT_INTERVAL", "seconds between WebSocket pings", default: "30"),
        Setting("WS_MAX_CONNECTIONS_PER_USER", "sockets per user", default: "5"),
        Setting("WS_LIMIT_POLICY", "evict_oldest or reject", default: "evict_oldest"),
        Setting("WS_MAX_MESSAGE_BYTES", "largest client message", default: "65536"),
        Setting("WS_RESUME_MAX", "most notifications replayed on resume before a reset", default: "1000"),
        Setting("WS_SEND_BUFFER_BYTES", "outbound bytes queued for a socket before it is closed", default: "1048576"),
        Setting(
            "WS_COMPRESSION", "true lets clients that offer it negotiate permessage-deflate, without context takeover",
            default: "true"),
        Setting(
            "WS_MAX_SOCKETS", "sockets this instance accepts before answering 503 (0: the open-file limit less 256)",
            default: "0"),
        Setting(
            "WS_CONNECT_RATE", "handshakes per second allowed from one client address, 5 s of burst (0: no limit)",
            default: "200"),
        Setting(
            "CONFORMANCE_ECHO",
            "true adds /api/v1/ws/echo, an unauthenticated echo on the socket stack, for the Autobahn testsuite",
            default: "false"),
        Setting(
            "TRUSTED_PROXIES",
            "comma-separated proxy addresses whose X-Forwarded-For is believed (e.g. 127.0.0.1 behind nginx)",
            default: ""),
        Setting(
            "MEMBERSHIP_MAX_AGE",
            "seconds a user counts as at the locations of their latest token, for staff publishing, after last seen",
            default: "2592000"),
        Setting(
            "IDEMPOTENCY_WINDOW", "seconds an idempotency key is remembered; a retry after that publishes anew",
            default: "86400"),
        Setting(
            "REQUEST_TIMEOUT",
            "seconds a REST request may take before 503; database statement, lock and idle-in-transaction limits follow",
            default: "5"),
        Setting("LOG_LEVEL", "trace, debug, info, notice, warning, error or critical", default: "info"),
        Setting("LOG_FORMAT", "json or text", default: "json"),
    ]
}
