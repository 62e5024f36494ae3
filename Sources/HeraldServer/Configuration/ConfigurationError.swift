/// A bad or missing setting. Its description is the one line start-up prints before exiting.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let setting: String
    public let problem: String

    public init(setting: String, problem: String) {
        self.setting = setting
        self.problem = problem
    }

    public var description: String { "configuration error: \(setting) \(problem)" }
}
