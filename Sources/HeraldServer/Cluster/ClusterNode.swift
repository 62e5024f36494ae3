import Foundation

/// This process as the cluster knows it: `INSTANCE_ID` names it to people, and the incarnation, new at every
/// start, names this run of it in PostgreSQL, so that a restarted instance never inherits the sockets its previous
/// run left behind.
public struct ClusterNode: Sendable {
    public let incarnation: UUID
    public let instanceID: String
    public let startedAt: Date
    public let version: String

    public init(instanceID: String, version: String) {
        incarnation = UUID()
        self.instanceID = instanceID
        startedAt = Date()
        self.version = version
    }
}
