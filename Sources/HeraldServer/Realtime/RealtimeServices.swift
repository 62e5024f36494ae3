import Logging

/// What a session needs beyond its own socket, passed in rather than reached through globals.
struct RealtimeServices: Sendable {
    let inbox: InboxStore
    let verifier: TokenVerifier
    let membership: MembershipStore
    let heartbeatInterval: Double
    let resumeMax: Int
    let logger: Logger
    let metrics: HeraldMetrics
    let handshakes: HandshakeGuard
    /// Where this instance's sockets are recorded for the cluster (the limit, sessions, presence, status).
    let journal: SessionJournal
}
