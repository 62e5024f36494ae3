/// What the sockets of one event loop did since the last flush: plain integers, because only that loop touches
/// them. ``HeraldMetrics`` takes the totals at scrape time and on each heartbeat sweep, so the delivery path pays
/// for an array increment, not an atomic shared between cores.
struct SocketCounters {
    /// How an upgrade ended: admitted, or refused with a close code.
    enum Connect: Int, CaseIterable {
        case accepted, unauthorized, limited, draining

        var label: String {
            switch self {
            case .accepted: "accepted"
            case .unauthorized: "unauthorized"
            case .limited: "limited"
            case .draining: "draining"
            }
        }
    }

    /// Why a registered socket went away.
    enum Close: Int, CaseIterable {
        case client, lost, goingAway, heartbeat, replaced, limit, unauthorized, policy, sendBuffer, tooBig
        case invalidPayload, protocolError, internalError, disconnected

        var label: String {
            switch self {
            case .client: "client"
            case .lost: "connection_lost"
            case .goingAway: "going_away"
            case .heartbeat: "heartbeat"
            case .replaced: "replaced"
            case .limit: "limit"
            case .unauthorized: "unauthorized"
            case .policy: "policy"
            case .sendBuffer: "send_buffer"
            case .tooBig: "too_big"
            case .invalidPayload: "invalid_payload"
            case .protocolError: "protocol_error"
            case .internalError: "internal_error"
            case .disconnected: "disconnected"
            }
        }

        /// The reason a server-sent close code stands for.
        init(code: Int) {
            switch code {
            case 1001: self = .goingAway
            case 1002: self = .protocolError
            case 1007: self = .invalidPayload
            case 1008: self = .policy
            case 1009: self = .tooBig
            case 4401: self = .unauthorized
            case 4409: self = .replaced
            case 4410: self = .disconnected
            case 4429: self = .limit
            default: self = .internalError
            }
        }
    }

    /// Client messages, by their `type` (docs/protocol.md).
    enum Inbound: Int, CaseIterable {
        case ping, subscribe, unsubscribe, ack, resume, auth, invalid, binary

        var label: String {
            switch self {
            case .ping: "ping"
            case .subscribe: "subscribe"
            case .unsubscribe: "unsubscribe"
            case .ack: "ack"
            case .resume: "resume"
            case .auth: "auth"
            case .invalid: "invalid"
            case .binary: "binary"
            }
        }
    }

    /// Server messages, by their `type` (docs/protocol.md).
    enum Outbound: Int, CaseIterable {
        case connection, notification, inbox, event, pong, subscribed, authOK, error, reset

        var label: String {
            switch self {
            case .connection: "connection"
            case .notification: "notification"
            case .inbox: "inbox"
            case .event: "event"
            case .pong: "pong"
            case .subscribed: "subscribed"
            case .authOK: "auth_ok"
            case .error: "error"
            case .reset: "reset"
            }
        }
    }

    var connects = [Int](repeating: 0, count: Connect.allCases.count)
    var closes = [Int](repeating: 0, count: Close.allCases.count)
    var inbound = [Int](repeating: 0, count: Inbound.allCases.count)
    var outbound = [Int](repeating: 0, count: Outbound.allCases.count)

    /// Hands the counts over and starts again from zero.
    mutating func take() -> SocketCounters {
        defer { self = SocketCounters() }
        return self
    }
}
