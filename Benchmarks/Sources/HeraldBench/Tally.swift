/// What the sockets of one event loop received: per notification id, how many and when the last one arrived.
/// Only its loop touches it; ``WorkerCommand`` collects the tallies by hopping to each loop.
final class Tally {
    var deliveries = 0
    var received: [Int64: (count: Int, lastMicros: Int64)] = [:]
    /// The loop's inflater, when the sockets offered permessage-deflate; Herald gives up context takeover, so
    /// one serves every socket of the loop.
    let inflater: MessageInflater?

    init(inflating: Bool = false) throws {
        inflater = inflating ? try MessageInflater() : nil
    }

    func record(id: Int64, at micros: Int64) {
        deliveries += 1
        let previous = received[id]?.count ?? 0
        received[id] = (previous + 1, micros)
    }

    /// Hands over what was counted and starts again.
    func take() -> (deliveries: Int, received: [Int64: (count: Int, lastMicros: Int64)]) {
        defer {
            deliveries = 0
            received = [:]
        }
        return (deliveries, received)
    }
}
