import Foundation
import HeraldServer
import Testing

/// A bad or missing setting stops start-up with one line naming it.
@Suite("Configuration")
struct ConfigurationTests {
    @Test("defaults are the documented ones")
    func defaults() throws {
        let configuration = try HeraldConfiguration(environment: [:])
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 8000)
        #expect(configuration.heartbeatInterval == 30)
        #expect(configuration.maxConnectionsPerUser == 5)
        #expect(configuration.limitPolicy == .evictOldest)
        #expect(configuration.maxMessageBytes == 65536)
        #expect(configuration.resumeMax == 1000)
        #expect(configuration.jwtLeeway == 0)
        #expect(configuration.logFormat == .json)
        #expect(configuration.databasePoolSize == max(4, 2 * ProcessInfo.processInfo.activeProcessorCount))
        #expect(configuration.requestTimeout == 5)
    }

    @Test("flags override the environment")
    func flagsOverride() throws {
        let configuration = try HeraldConfiguration(
            environment: ["PORT": "9000", "WS_LIMIT_POLICY": "reject"], arguments: ["--port", "9100", "--host=0.0.0.0"])
        #expect(configuration.port == 9100)
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.limitPolicy == .reject)
    }

    @Test(
        "each bad value names its setting",
        arguments: [
            ("PORT", "http"), ("PORT", "70000"), ("WS_HEARTBEAT_INTERVAL", "-1"), ("WS_LIMIT_POLICY", "random"),
            ("WS_MAX_CONNECTIONS_PER_USER", "0"), ("WS_MAX_MESSAGE_BYTES", "abc"), ("LOG_LEVEL", "loud"),
            ("LOG_FORMAT", "xml"), ("JWT_LEEWAY", "soon"), ("DATABASE_POOL_SIZE", "-1"),
            ("NOTIFICATION_TYPES", "ok,bad type"),
        ])
    func badValues(setting: String, value: String) throws {
        let error = try #require(throws: ConfigurationError.self) {
            try HeraldConfiguration(environment: [setting: value])
        }
        #expect(error.setting == setting)
        #expect(error.description.hasPrefix("configuration error: \(setting) "))
        #expect(!error.description.contains("\n"))
    }

    @Test("missing database and key settings are named at start-up")
    func missingSettings() async throws {
        let configuration = try HeraldConfiguration(environment: [:])
        #expect(throws: ConfigurationError.self) { try configuration.requireDatabase() }
        await #expect(throws: ConfigurationError.self) { try await configuration.makeTokenVerifier() }
        let unreadable = try HeraldConfiguration(environment: ["JWT_PUBLIC_KEY_FILE": "/nonexistent.pem"])
        let error = await #expect(throws: ConfigurationError.self) { try await unreadable.makeTokenVerifier() }
        #expect(error?.setting == "JWT_PUBLIC_KEY_FILE")
        let url = try HeraldConfiguration(environment: ["DATABASE_URL": "mysql://x"])
        #expect(throws: ConfigurationError.self) { try url.requireDatabase() }
        #expect(throws: ConfigurationError.self) {
            try HeraldConfiguration(environment: [:], arguments: ["--nope", "1"])
        }
    }
}
