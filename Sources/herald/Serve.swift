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
            app = try await HeraldApp.start(
                configuration, logger: logger, metrics: metrics, signals: [.sigterm, .sigint])
        } catch {
            SettingFlags.fail(error)
        }
        try await app.waitUntilStopped()
    }
}
