import Foundation
import NIOCore

/// The sockets of one event loop, indexed by user and by location. Only its own loop touches it, so a publish
/// crosses each loop once (``SocketRegistry``) and then reaches every socket here with plain calls.
///
/// A plain new notification sends no `inbox` frame: clients add it to the count they were last given
/// (``UnreadCount``), which halves the frames of a delivery. This registry pushes the count only where a client
/// could not follow it: a collapse that replaced notifications, an expiry, a listener gap, a token that moved the
/// user between locations. REST changes bring their own count (``InboxChange``).
final class LoopRegistry {
    let eventLoop: any EventLoop
    let index: Int
    private let stride: Int
    private var nextID: UInt64 = 0
    private var sessions: [UInt64: SessionHandler] = [:]
    private var byUser: [String: SessionSet<SessionHandler>] = [:]
    private var byLocation: [String: SessionSet<SessionHandler>] = [:]
    /// Users whose unread count is waiting to be loaded, with the `inbox` pushes to send once it is: one per
    /// reason, each with its ids (a collapse's new id must not read as deleted because an expiry shares the load).
    private var countQueue: [String: (principal: Principal, pushes: [(reason: InboxChange.Reason, ids: [Int64])])] =
        [:]
    private var countLoadRunning = false
    /// A notification delivered here that expires, filed under the second after which its recipients' counts are
    /// pushed (``expiryMargin`` past its expiry).
    private struct ExpiringNotification: Hashable {
        let id: Int64
        let audience: String
    }
    /// Notifications whose expiry pushes the count of the users here who may see them; at most
    /// ``expiryWatchLimit``.
    private var countExpiries = ExpiryWheel<ExpiringNotification>(now: LoopRegistry.currentSecond())
    /// Sockets with notifications written and not yet flushed.
    private var unflushed: [UInt64: SessionHandler] = [:]
    private var flushScheduled = false
    private let inbox: InboxStore
    private let metrics: HeraldMetrics
    /// This loop's socket counts since the last scrape (``SocketCounters``).
    var counters = SocketCounters()
    private var heartbeat: RepeatedTask?
    private var expiryTimer: RepeatedTask?
    private var lastPing = NIODeadline.now()
    /// Sockets by the second (Unix time, rounded up) their token expires.
    private var tokenExpiries = ExpiryWheel<UInt64>(now: LoopRegistry.currentSecond())

    init(eventLoop: any EventLoop, index: Int, stride: Int, inbox: InboxStore, metrics: HeraldMetrics) {
        self.eventLoop = eventLoop
        self.index = index
        self.stride = stride
        self.inbox = inbox
        self.metrics = metrics
    }

    /// Ids unique across the instance: each shard counts in its own residue class.
    func nextSessionID() -> UInt64 {
        nextID += 1
        return nextID * UInt64(stride) + UInt64(index)
    }

    var connectionCount: Int { sessions.count }

    // MARK: Membership

    func add(_ session: SessionHandler) {
        sessions[session.id] = session
        byUser[session.principal.userID, default: .empty].insert(session)
        for location in session.principal.locations { byLocation[location, default: .empty].insert(session) }
    }

    func remove(_ session: SessionHandler) {
        guard sessions.removeValue(forKey: session.id) != nil else { return }
        let user = session.principal.userID
        tokenExpiries.remove(session.id, at: Self.second(session.principal.expiresAt))
        byUser[user]?.remove(session.id)
        if byUser[user]?.isEmpty == true { byUser[user] = nil }
        unindex(session, locations: session.principal.locations)
    }

    /// After a token refresh; a change of locations changes which notifications the user sees, so the count.
    func relocate(_ session: SessionHandler, from old: [String]) {
        guard Set(old) != Set(session.principal.locations) else { return }
        unindex(session, locations: old)
        for location in session.principal.locations { byLocation[location, default: .empty].insert(session) }
        loadCount(for: session.principal, reason: .created, ids: [])
    }

    private func unindex(_ session: SessionHandler, locations: [String]) {
        for location in locations {
            byLocation[location]?.remove(session.id)
            if byLocation[location]?.isEmpty == true { byLocation[location] = nil }
        }
    }

    func session(_ id: UInt64) -> SessionHandler? { sessions[id] }

    // MARK: Delivery

    /// Delivers committed notifications, in id order, to the sockets here that may see them.
    ///
    /// Each notification goes to all its sockets here in one pass. Writing in slices with the loop's other work
    /// between them was measured: fan-out to 10,000 sockets took 240 ms at the median instead of 155 ms.
    func deliver(_ batch: [(LiveNotification, EncodedFrame)]) {
        let wallMillis = Timestamp.millisecondsNow()
        for (notification, frame) in batch {
            if let expires = notification.expiresAtMillis, expires <= wallMillis { continue }
            let recipients = sessions(for: notification.audience)
            if let published = notification.publishedAtMicros, !recipients.isEmpty {
                metrics.publishedToSent(microseconds: Timestamp.microsecondsNow() - published)
            }
            for session in recipients where session.deliver(id: notification.id, frame: frame) {
                unflushed[session.id] = session
            }
            if notification.replacedOthers {
                pushCounts(to: recipients, reason: .created, ids: [notification.id])
            }
            if let expires = notification.expiresAtMillis, !recipients.isEmpty,
                countExpiries.count < Self.expiryWatchLimit
            {
                let expiring = ExpiringNotification(id: notification.id, audience: notification.audience)
                _ = countExpiries.add(expiring, at: Self.second(Double(expires + Self.expiryMargin) / 1000))
            }
        }
        scheduleFlush()
    }

    /// Whether any socket here may see notifications of `audience`.
    func hasSockets(for audience: String) -> Bool {
        !sessions(for: audience).isEmpty
    }

    private func sessions(for audience: String) -> SessionSet<SessionHandler> {
        if audience == Audience.broadcast { return .many(sessions) }
        if audience.hasPrefix("u:") { return byUser[String(audience.dropFirst(2))] ?? .empty }
        if audience.hasPrefix("l:") { return byLocation[String(audience.dropFirst(2))] ?? .empty }
        return .empty
    }

    /// Runs ``flushDelivered()`` once the loop has run what is queued now (more notifications, often).
    private func scheduleFlush() {
        guard !flushScheduled, !unflushed.isEmpty else { return }
        flushScheduled = true
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { bound.value.flushDelivered() }
    }

    /// Flushes every socket written since the last flush: a burst of notifications leaves each socket in one
    /// system call, which is most of what a delivery costs (the kernel's TCP send path, measured at two thirds
    /// of the server's CPU).
    private func flushDelivered() {
        flushScheduled = false
        let written = unflushed
        unflushed = [:]
        for session in written.values { session.flush() }
    }

    /// Most notifications watched for expiry at once per loop; past it, an expiry shows in the count at the
    /// user's next change instead (a day of notifications that expire tomorrow at 1,000 a second would
    /// otherwise hold 86 million entries).
    static let expiryWatchLimit = 50_000
    /// How long (ms) after its expiry a notification's count is pushed: the database's clock decides what has
    /// expired, and it may run a little behind this one.
    static let expiryMargin: Int64 = 1_000

    /// Queues a count push for each user of `sessions`, once per user.
    private func pushCounts(
        to sessions: SessionSet<SessionHandler>, reason: InboxChange.Reason, ids: [Int64]
    ) {
        var users = Set<String>()
        for session in sessions where users.insert(session.principal.userID).inserted {
            loadCount(for: session.principal, reason: reason, ids: ids)
        }
    }

    /// An inbox change made through REST, with its authoritative count.
    func deliver(_ change: InboxChange) {
        guard byUser[change.userID] != nil else { return }
        push(
            change.userID,
            ServerFrame.inbox(
                unreadCount: change.unreadCount, reason: change.reason, ids: change.ids, lastID: change.lastID))
    }

    /// Delivers an ephemeral event; returns how many sockets took it.
    func deliver(_ event: EphemeralEvent, frame: EncodedFrame) -> Int {
        var delivered = Set<UInt64>()
        for audience in event.audiences {
            for session in sessions(for: audience)
            where !delivered.contains(session.id) && session.accepts(eventType: event.eventType) {
                session.write(frame, .event)
                delivered.insert(session.id)
            }
        }
        return delivered.count
    }

    private func push(_ user: String, _ payload: ByteBuffer) {
        guard let sessions = byUser[user] else { return }
        let frame = EncodedFrame(text: payload)
        for session in sessions { session.write(frame, .inbox) }
    }

    /// Queues a user's unread count for loading, then pushing as an `inbox` frame with `reason` and `ids`.
    /// Loads go in batches of up to ``countBatch`` users, one statement each and one at a time per loop, so the
    /// expiry of a broadcast to a thousand users costs a couple of queries and never crowds publishes out of the
    /// pool.
    private func loadCount(for principal: Principal, reason: InboxChange.Reason, ids: [Int64]) {
        let user = principal.userID
        if var queued = countQueue[user] {
            if let index = queued.pushes.firstIndex(where: { $0.reason == reason }) {
                queued.pushes[index].ids += ids
            } else {
                queued.pushes.append((reason, ids))
            }
            countQueue[user] = queued
            return
        }
        countQueue[user] = (principal, [(reason, ids)])
        flushCounts()
    }

    static let countBatch = 500

    private func flushCounts() {
        guard !countLoadRunning, !countQueue.isEmpty else { return }
        countLoadRunning = true
        let batch = Array(countQueue.prefix(Self.countBatch))
        for (user, _) in batch { countQueue[user] = nil }
        let inbox = inbox
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let loop = eventLoop
        let principals = batch.map(\.value.principal)
        let metrics = metrics
        Task {
            // A failed load loses these pushes, not the counts: the next change the users make brings theirs.
            let counts = try? await inbox.unreadCounts(principals)
            if counts == nil { metrics.databaseError("realtime") }
            loop.execute {
                let registry = bound.value
                registry.countLoadRunning = false
                for (user, entry) in batch where registry.byUser[user] != nil {
                    guard let unread = counts?[user] else { continue }
                    for (reason, ids) in entry.pushes {
                        registry.push(
                            user,
                            ServerFrame.inbox(
                                unreadCount: unread.count, reason: reason, ids: ids, lastID: unread.lastID))
                    }
                }
                registry.flushCounts()
            }
        }
    }

    /// Pushes every user's count after a listener gap: REST changes announced during it were never heard.
    func refreshCounts() {
        for sessions in byUser.values {
            if let any = sessions.first { loadCount(for: any.principal, reason: .created, ids: []) }
        }
    }

    /// Tells every socket here to refetch over REST.
    func resetAll(_ detail: String) {
        let frame = EncodedFrame(text: ServerFrame.reset(detail))
        for session in sessions.values { session.write(frame, .reset) }
    }

    // MARK: Expiries

    /// Closes `session` with 4401 within a second after its token's `exp`; a refreshed token (`previous` the
    /// expiry it replaces) moves the deadline.
    func expire(_ session: SessionHandler, replacing previous: Double? = nil) {
        if let previous { tokenExpiries.remove(session.id, at: Self.second(previous)) }
        guard tokenExpiries.add(session.id, at: Self.second(session.principal.expiresAt)) else {
            // After what the caller is doing now (a new socket's first frames), as a timer due now would.
            let bound = NIOLoopBound(session, eventLoop: eventLoop)
            eventLoop.execute { bound.value.close(.unauthorized("token expired")) }
            return
        }
    }

    /// Once a second: closes the sockets whose token has expired, and pushes the counts that expired
    /// notifications changed (they leave the count with no change a client could see).
    private func handleExpiries() {
        let now = Self.currentSecond()
        for id in tokenExpiries.take(through: now) {
            sessions[id]?.close(.unauthorized("token expired"))
        }
        for expired in countExpiries.take(through: now) {
            pushCounts(to: sessions(for: expired.audience), reason: .deleted, ids: [expired.id])
        }
    }

    /// The second (Unix time) an instant falls due in: rounded up, so nothing is handled before it.
    private static func second(_ unixTime: Double) -> Int64 {
        Int64(min(unixTime, 1e15).rounded(.up))
    }

    private static func currentSecond() -> Int64 {
        Int64(Date().timeIntervalSince1970.rounded(.down))
    }

    // MARK: Heartbeat and shutdown

    /// Pings every socket each interval, and closes those that sent nothing, not even a pong, for two. The sweep
    /// runs four times per interval, so a dead peer goes within two and a quarter intervals of its last sign of life.
    func startHeartbeat(interval: Double) {
        let amount = TimeAmount.nanoseconds(Int64(interval * 1e9))
        let step = TimeAmount.nanoseconds(Int64(interval * 1e9 / 4))
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        lastPing = .now()
        heartbeat = eventLoop.scheduleRepeatedTask(initialDelay: step, delay: step) { _ in
            bound.value.sweep(interval: amount)
        }
        expiryTimer = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            bound.value.handleExpiries()
        }
    }

    func stopHeartbeat() {
        heartbeat?.cancel()
        heartbeat = nil
        expiryTimer?.cancel()
        expiryTimer = nil
    }

    private func sweep(interval: TimeAmount) {
        let now = NIODeadline.now()
        let ping = now - lastPing >= interval
        if ping { lastPing = now }
        for session in sessions.values {
            if now - session.lastSeen > interval * 2 {
                session.close(.goingAway("heartbeat timeout"), peerUnresponsive: true, counted: .heartbeat)
            } else if ping {
                session.ping()
            }
        }
    }

    /// Closes `user`'s sockets whose token `covers` accepts (by its `iat`); returns how many.
    func closeUser(_ user: String, with reason: HeraldError, where covers: (Double?) -> Bool) -> Int {
        var closed = 0
        for session in byUser[user] ?? .empty where covers(session.principal.issuedAt) {
            session.close(reason)
            closed += 1
        }
        return closed
    }

    /// The cluster rows of this loop's sockets (``SessionJournal/resync(_:)``).
    func records() -> [ClusterStore.Opened] { sessions.values.compactMap(\.record) }

    /// Closes every socket with 1001 (the drain of a graceful shutdown).
    func closeAll(_ reason: HeraldError) {
        for session in sessions.values { session.close(reason) }
    }

    /// Hands this loop's counts to the metrics and returns its number of sockets (`/metrics`).
    func flushMetrics() -> Int {
        metrics.add(counters.take())
        return sessions.count
    }

    /// Counts for `/ws/status`.
    func snapshot() -> RegistrySnapshot {
        RegistrySnapshot(
            users: Set(byUser.keys), connections: sessions.count, byLocation: byLocation.mapValues(\.count))
    }
}
