/// What `/ws/status` reports, merged over the event loops.
struct RegistrySnapshot: Sendable {
    var users: Set<String> = []
    var connections = 0
    var byLocation: [String: Int] = [:]

    mutating func merge(_ other: RegistrySnapshot) {
        users.formUnion(other.users)
        connections += other.connections
        byLocation.merge(other.byLocation, uniquingKeysWith: +)
    }
}
