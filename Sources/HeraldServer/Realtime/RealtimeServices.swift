import Logging

/// What a session needs beyond its own socket, passed in rather than reached through globals.
///
/// A class, so that each of the instance's sessions holds one reference to it: as a struct it was 136 bytes
/// copied into every ``SessionHandler`` (and nine references retained with each copy).
final class RealtimeServices: Sendable {
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

    init(
        inbox: InboxStore, verifier: TokenVerifier, membership: MembershipStore, heartbeatInterval: Double,
        resumeMax: Int, logger: Logger, metrics: HeraldMetrics, handshakes: HandshakeGuard, journal: SessionJournal
    ) {
        self.inbox = inbox
        self.verifier = verifier
        self.membership = membership
        self.heartbeatInterval = heartbeatInterval
        self.resumeMax = resumeMax
        self.logger = logger
        self.metrics = metrics
        self.handshakes = handshakes
        self.journal = journal
    }
}
