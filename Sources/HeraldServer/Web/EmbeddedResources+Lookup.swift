extension EmbeddedResources {
    /// The bytes of the embedded resource `name`; a missing one is a build mistake, caught by the first test.
    static func bytes(_ name: String) -> [UInt8] {
        guard let bytes = files[name] else { preconditionFailure("no embedded resource \(name)") }
        return bytes
    }
}
