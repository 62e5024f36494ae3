/// Tells ``SessionHandler`` that the peer started the close handshake, so the close counts as the client's.
struct PeerClosedEvent {}
