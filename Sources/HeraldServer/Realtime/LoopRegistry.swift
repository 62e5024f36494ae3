import NIOCore

/// The sockets of one event loop, indexed by user and by location. Only its own loop touches it, so a publish
/// crosses each loop once (``SocketRegistry``) and then reaches every socket here with plain calls.
///
/// It also caches each user's unread count, so a location or broadcast notification, which changes the count of
/// every member by one, can push `inbox` frames without one query per recipient. REST changes send the
/// authoritative count (``InboxChange``), which overwrites the cache.
final class LoopRegistry {
    let eventLoop: any EventLoop
    let index: Int
    private let stride: Int
    private var nextID: UInt64 = 0
    private var sessions: [UInt64: SessionHandler] = [:]
    private var byUser: [String: [UInt64: SessionHandler]] = [:]
    private var byLocation: [String: [UInt64: SessionHandler]] = [:]
    private var unreadCounts: [String: Int] = [:]
    /// Users whose unread count is waiting to be loaded, with the `inbox` push to send once it is.
    private var countQueue: [String: (principal: Principal, reason: InboxChange.Reason?, ids: [Int64])] = [:]
    private var countLoadRunning = false
    /// Users with notifications created since their last `inbox` push, and those notifications' ids.
    private var createdSince: [String: [Int64]] = [:]
    /// Sockets with notifications written and not yet flushed.
    private var unflushed: [UInt64: SessionHandler] = [:]
    private var finishScheduled = false
    private let inbox: InboxStore
    private let metrics: HeraldMetrics
    /// This loop's socket counts since the last scrape (``SocketCounters``).
    var counters = SocketCounters()
    private var heartbeat: RepeatedTask?
    private var lastPing = NIODeadline.now()

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
        byUser[session.principal.userID, default: [:]][session.id] = session
        for location in session.principal.locations { byLocation[location, default: [:]][session.id] = session }
        loadCount(for: session.principal)
    }

    func remove(_ session: SessionHandler) {
        guard sessions.removeValue(forKey: session.id) != nil else { return }
        let user = session.principal.userID
        byUser[user]?.removeValue(forKey: session.id)
        if byUser[user]?.isEmpty == true {
            byUser[user] = nil
            unreadCounts[user] = nil
        }
        unindex(session, locations: session.principal.locations)
    }

    /// After a token refresh changed the session's locations.
    func relocate(_ session: SessionHandler, from old: [String]) {
        unindex(session, locations: old)
        for location in session.principal.locations { byLocation[location, default: [:]][session.id] = session }
    }

    private func unindex(_ session: SessionHandler, locations: [String]) {
        for location in locations {
            byLocation[location]?.removeValue(forKey: session.id)
            if byLocation[location]?.isEmpty == true { byLocation[location] = nil }
        }
    }

    func session(_ id: UInt64) -> SessionHandler? { sessions[id] }

    // MARK: Delivery

    /// Delivers committed notifications, in id order, to the sockets here that may see them.
    ///
    /// Each notification goes to all its sockets here in one pass, the `inbox` counts after (``created(_:_:)``).
    /// Writing in slices with the loop's other work between them was measured: fan-out to 10,000 sockets took
    /// 240 ms at the median instead of 155 ms, because the counts of the first slice went out before the
    /// notification reached the rest.
    func deliver(_ batch: [(LiveNotification, EncodedFrame)]) {
        let wallMillis = Timestamp.millisecondsNow()
        for (notification, frame) in batch {
            if let expires = notification.expiresAtMillis, expires <= wallMillis { continue }
            let recipients = sessions(for: notification.audience)
            if let published = notification.publishedAtMicros, !recipients.isEmpty {
                metrics.publishedToSent(microseconds: Timestamp.microsecondsNow() - published)
            }
            var users = Set<String>()
            for session in recipients.values {
                if session.deliver(id: notification.id, frame: frame) { unflushed[session.id] = session }
                users.insert(session.principal.userID)
            }
            for user in users { created(user, notification) }
        }
        scheduleFinish()
    }

    /// Whether any socket here may see notifications of `audience`.
    func hasSockets(for audience: String) -> Bool {
        !sessions(for: audience).isEmpty
    }

    private func sessions(for audience: String) -> [UInt64: SessionHandler] {
        if audience == Audience.broadcast { return sessions }
        if audience.hasPrefix("u:") { return byUser[String(audience.dropFirst(2))] ?? [:] }
        if audience.hasPrefix("l:") { return byLocation[String(audience.dropFirst(2))] ?? [:] }
        return [:]
    }

    /// A new notification is one more unread for `user`, unless it replaced others (collapse): then recount.
    ///
    /// The `inbox` frame goes once the loop has run what was queued before it, carrying every notification
    /// created for the user meanwhile: a burst of notifications costs each user one count frame, not one each,
    /// and the count always follows the notifications it counts.
    private func created(_ user: String, _ notification: LiveNotification) {
        guard !notification.replacedOthers, let count = unreadCounts[user] else {
            if let any = byUser[user]?.values.first {
                loadCount(for: any.principal, reason: .created, ids: [notification.id])
            }
            return
        }
        unreadCounts[user] = count + 1
        createdSince[user, default: []].append(notification.id)
    }

    /// Runs ``finishDeliveries()`` once the loop has run what is queued now (more notifications, often).
    private func scheduleFinish() {
        guard !finishScheduled, !unflushed.isEmpty || !createdSince.isEmpty else { return }
        finishScheduled = true
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        eventLoop.execute { bound.value.finishDeliveries() }
    }

    /// Writes each user's `inbox` count after the notifications it counts and flushes that user's sockets at once:
    /// a burst of notifications and its count leave each socket in one system call, which is most of what a
    /// delivery costs (the kernel's TCP send path, measured at two thirds of the server's CPU). Flushing user by
    /// user, not after every count is written, lets the first sockets' bytes leave while later counts are encoded.
    /// Sockets with notifications but no count to send (not loaded yet) are flushed last.
    private func finishDeliveries() {
        finishScheduled = false
        let pending = createdSince
        createdSince = [:]
        for (user, ids) in pending {
            guard let count = unreadCounts[user], let sessions = byUser[user] else { continue }
            let frame = EncodedFrame(text: ServerFrame.inbox(unreadCount: count, reason: .created, ids: ids))
            for session in sessions.values {
                session.write(frame, .inbox)
                unflushed[session.id] = nil
            }
        }
        let written = unflushed
        unflushed = [:]
        for session in written.values { session.flush() }
    }

    /// An inbox change made through REST, with its authoritative count.
    func deliver(_ change: InboxChange) {
        guard byUser[change.userID] != nil else { return }
        unreadCounts[change.userID] = change.unreadCount
        push(change.userID, ServerFrame.inbox(unreadCount: change.unreadCount, reason: change.reason, ids: change.ids))
    }

    /// Delivers an ephemeral event; returns how many sockets took it.
    func deliver(_ event: EphemeralEvent, frame: EncodedFrame) -> Int {
        var delivered = Set<UInt64>()
        for audience in event.audiences {
            for session in sessions(for: audience).values
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
        for session in sessions.values { session.write(frame, .inbox) }
    }

    /// Queues a user's unread count for loading into the cache, then optionally pushing it as an `inbox` frame.
    /// Loads go in batches of up to ``countBatch`` users, one statement each and one at a time per loop, so a
    /// thousand connects cost a handful of queries and never crowd publishes out of the pool.
    private func loadCount(for principal: Principal, reason: InboxChange.Reason? = nil, ids: [Int64] = []) {
        let user = principal.userID
        guard unreadCounts[user] == nil || reason != nil else { return }
        if var queued = countQueue[user] {
            if let reason {
                queued.reason = reason
                queued.ids += ids
                countQueue[user] = queued
            }
            return
        }
        countQueue[user] = (principal, reason, ids)
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
        Task {
            let counts = try? await inbox.unreadCounts(principals)
            loop.execute {
                let registry = bound.value
                registry.countLoadRunning = false
                for (user, entry) in batch where registry.byUser[user] != nil {
                    guard let counts else { continue }
                    let count = counts[user] ?? 0
                    registry.unreadCounts[user] = count
                    if let reason = entry.reason {
                        registry.push(user, ServerFrame.inbox(unreadCount: count, reason: reason, ids: entry.ids))
                    }
                }
                registry.flushCounts()
            }
        }
    }

    /// Forgets cached counts (after a listener gap they may be stale) and reloads them.
    func refreshCounts() {
        unreadCounts.removeAll()
        for sessions in byUser.values { if let any = sessions.values.first { loadCount(for: any.principal) } }
    }

    /// Tells every socket here to refetch over REST.
    func resetAll(_ detail: String) {
        let frame = EncodedFrame(text: ServerFrame.reset(detail))
        for session in sessions.values { session.write(frame, .reset) }
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
    }

    func stopHeartbeat() {
        heartbeat?.cancel()
        heartbeat = nil
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
        for session in (byUser[user] ?? [:]).values where covers(session.principal.issuedAt) {
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
