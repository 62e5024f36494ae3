import Logging
import NIOConcurrencyHelpers
import NIOCore
import Vapor

/// Who a request comes from: the peer, or, when the peer is one of `TRUSTED_PROXIES`, the client it names in
/// `X-Forwarded-For`. Handshake rate limits and access logs both go by it.
///
/// Behind a proxy that is not trusted, every client shares the proxy's address, so one client's reconnect storm
/// exhausts everyone's handshake budget. The first request that arrives with `X-Forwarded-For` from an untrusted
/// peer is therefore logged once as a warning that names the setting.
final class ClientAddress: Sendable {
    let trustedProxies: Set<String>
    private let logger: Logger
    private let warned = NIOLockedValueBox(false)

    init(trustedProxies: Set<String>, logger: Logger) {
        self.trustedProxies = trustedProxies
        self.logger = logger
    }

    /// The client's address, or `nil` when the request has no peer address.
    func of(_ request: Request) -> String? {
        of(peer: request.remoteAddress, headers: request.headers)
    }

    /// The same, from a request's peer and headers.
    func of(peer address: SocketAddress?, headers: HTTPHeaders) -> String? {
        guard let peer = address?.ipAddress else { return nil }
        let header = headers[.xForwardedFor]
        guard trustedProxies.contains(peer) else {
            if !header.isEmpty { warnOnce(peer: peer) }
            return peer
        }
        let forwarded = header.flatMap { $0.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return forwarded.last(where: { !trustedProxies.contains($0) }) ?? forwarded.first ?? peer
    }

    private func warnOnce(peer: String) {
        let first = warned.withLockedValue { warned in
            defer { warned = true }
            return !warned
        }
        guard first else { return }
        logger.warning(
            "requests carry X-Forwarded-For from a peer TRUSTED_PROXIES does not name; every client behind it shares one address for handshake rate limits and logs: set TRUSTED_PROXIES to that proxy",
            metadata: ["peer": "\(peer)"])
    }
}
