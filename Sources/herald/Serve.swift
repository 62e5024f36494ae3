import ArgumentParser
import HeraldServer
import Metrics
import Prometheus
import UnixSignals

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the REST API and the WebSocket.", discussion: "Settings:\n" + SettingFlags.help)

    @OptionGroup var settings: SettingFlags

    func run() async throws {
        let configuration = settings.configuration()
        let logger = SettingFlags.bootstrapLogging(configuration)
        let metrics = HeraldMetrics()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metrics.registry))
        let app: HeraldApp
        do {
            app = try await HeraldApp.start(configuration, logger: logger, metrics: metrics)
        } catch {
            SettingFlags.fail(error)
        }
        let signal = await Self.waitForTermination()
        logger.info("shutting down", metadata: ["signal": "\(signal)"])
        await app.shutdown()
    }

    /// Suspends until SIGTERM or SIGINT and returns which.
    static func waitForTermination() async -> UnixSignal {
        for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
            return signal
        }
        return .sigterm
    }
}
