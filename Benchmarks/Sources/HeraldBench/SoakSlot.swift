import NIOCore

/// One soak socket across its reconnects: who it is, every notification id it received, and the stretches it was
/// away without asking to resume (what arrived then is not its to check). Only its event loop touches it while
/// the socket is open; the worker reads it after closing.
final class SoakSlot: @unchecked Sendable {
    let index: Int
    let user: String
    let locationIndex: Int
    let loop: any EventLoop
    var channel: (any Channel)?
    var received: [Int64] = []
    /// Open ranges of ids (lower, upper) left unchecked: from the last id before a reconnect without `since` to the
    /// first id after it. `upper` is `Int64.max` until the first id arrives.
    var unchecked: [(lower: Int64, upper: Int64)] = []
    /// Each reconnect: the last id the socket had, and whether it asked to resume from it.
    var reconnects: [(lastID: Int64, resumed: Bool)] = []
    /// Close codes the server sent, with the last id the socket had then.
    var serverCloses: [(code: UInt16, lastID: Int64)] = []

    init(index: Int, prefix: String, locations: Int, loop: any EventLoop) {
        self.index = index
        self.user = "\(prefix)-\(index)"
        self.locationIndex = index % locations
        self.loop = loop
    }

    func record(_ id: Int64) {
        if let last = unchecked.last, last.upper == .max { unchecked[unchecked.count - 1].upper = id }
        received.append(id)
    }

    /// `reset` frames the server sent (it could not replay; a real client refetches the inbox over REST).
    var resets = 0

    /// Called before a reconnect without `since`, and on `reset`: what the server commits until the next id
    /// arrives may or may not reach the socket.
    func forgetUntilNextID() {
        unchecked.append((received.last ?? 0, .max))
    }

    func isChecked(_ id: Int64) -> Bool {
        !unchecked.contains { id > $0.lower && id < $0.upper }
    }
}
