import Foundation

/// What ``SessionJournal`` has yet to write: sockets opened (or moved to new locations), sockets closed, and users
/// whose limit must be decided again; and whether a flush is running. Each change says whether a flush must
/// start, and the flush takes batches until none is left, so there is at most one writer and nothing waits.
///
/// A socket that opens and closes before its row is taken is never written; its deletion is still sent, since an
/// earlier batch may have written an older version of the row. A batch that failed is put back in front, except
/// for the sockets that closed meanwhile.
struct SessionJournalState {
    struct Batch: Equatable {
        var opened: [ClusterStore.Opened] = []
        var closed: [UUID] = []
        var recheck: Set<String> = []
    }

    private var opened: [UUID: ClusterStore.Opened] = [:]
    /// The order sockets were opened in; it may still hold ids that closed or were taken since, skipped when met.
    private var order: [UUID] = []
    private var orderStart = 0
    private var closed: [UUID] = []
    private var recheck: Set<String> = []
    private(set) var flushing = false

    /// Nothing waits and no flush runs.
    var isIdle: Bool { !flushing && isEmpty }

    private var isEmpty: Bool { opened.isEmpty && closed.isEmpty && recheck.isEmpty }

    /// Capacity of the waiting table kept between flushes; a larger one is given back.
    static let keptCapacity = 1024

    /// Room in the table of sockets waiting to be written.
    var waitingCapacity: Int { opened.capacity }

    /// Records a socket, or replaces what waits for it with a newer version (new locations). Returns whether a
    /// flush must start.
    mutating func opened(_ session: ClusterStore.Opened) -> Bool {
        if opened.updateValue(session, forKey: session.sessionID) == nil { order.append(session.sessionID) }
        return startFlush()
    }

    mutating func closed(_ sessionID: UUID) -> Bool {
        opened[sessionID] = nil
        closed.append(sessionID)
        return startFlush()
    }

    /// Writes `sockets` again (those not already waiting) and decides their users' limit again.
    mutating func resync(_ sockets: [ClusterStore.Opened]) -> Bool {
        for session in sockets where opened[session.sessionID] == nil {
            opened[session.sessionID] = session
            order.append(session.sessionID)
        }
        recheck.formUnion(sockets.map(\.userID))
        return startFlush()
    }

    /// The next batch, at most `limit` opened sockets with every closed one; `nil` when nothing is left, which ends
    /// the flush.
    mutating func nextBatch(limit: Int) -> Batch? {
        guard !isEmpty else {
            flushing = false
            order = []
            orderStart = 0
            // A dictionary keeps its capacity when emptied: after a storm of connects, the table of what waited
            // would hold about 100 bytes per socket of the storm for good.
            if opened.capacity > Self.keptCapacity { opened = [:] }
            return nil
        }
        var batch = Batch()
        while batch.opened.count < limit, orderStart < order.count {
            let id = order[orderStart]
            orderStart += 1
            if let session = opened.removeValue(forKey: id) { batch.opened.append(session) }
        }
        if orderStart > 1024, orderStart * 2 > order.count {
            order.removeFirst(orderStart)
            orderStart = 0
        }
        swap(&batch.closed, &closed)
        swap(&batch.recheck, &recheck)
        return batch
    }

    /// Puts a batch that could not be written back in front of what came since.
    mutating func failed(_ batch: Batch) {
        let closedSince = Set(closed)
        var front: [UUID] = []
        for session in batch.opened where !closedSince.contains(session.sessionID) && opened[session.sessionID] == nil {
            opened[session.sessionID] = session
            front.append(session.sessionID)
        }
        order = front + order[orderStart...]
        orderStart = 0
        closed = batch.closed + closed
        recheck.formUnion(batch.recheck)
    }

    private mutating func startFlush() -> Bool {
        guard !flushing else { return false }
        flushing = true
        return true
    }
}
