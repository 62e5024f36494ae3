import Foundation
import NIOCore
import NIOWebSocket

/// One authenticated socket speaking Herald's JSON protocol (docs/protocol.md). It lives on its channel's event
/// loop, and so does the ``LoopRegistry`` that indexes it, so delivery to it is a plain method call with no locks.
///
/// What the session decides (its phase, the replay and its buffer, acks, subscriptions) is
/// ``SessionStateMachine``'s; this handler carries out the actions it returns: it writes, queries off the loop
/// and hands the answers back, closes, and keeps the registry and the limiter in step.
final class SessionHandler: ChannelInboundHandler, Identifiable {
    typealias InboundIn = InboundMessage
    typealias OutboundOut = WireFrame

    /// Messages a client may send in a burst, and per second after it.
    static let burst = 40.0
    static let perSecond = 20.0
    /// Bad or rate-limited messages tolerated in a burst, and forgiven per second: past them, close with 1008.
    static let violationBurst = 40.0
    static let violationsForgivenPerSecond = 1.0

    let id: UInt64
    private(set) var principal: Principal
    private let sessionID = UUID.random()
    private let services: RealtimeServices
    private let registry: SocketRegistry
    private let shard: LoopRegistry
    private let authFailure: HeraldError?
    /// What the sessions API shows of the handshake.
    private let clientAddress: String?
    private let userAgent: String?
    /// When the socket was admitted; `nil` before.
    private var connectedAt: Date?
    private var machine: SessionStateMachine
    private var context: ChannelHandlerContext?
    private(set) var lastSeen = NIODeadline.now()
    private var bucket = TokenBucket(burst: SessionHandler.burst, perSecond: SessionHandler.perSecond)
    private var patience = TokenBucket(
        burst: SessionHandler.violationBurst, perSecond: SessionHandler.violationsForgivenPerSecond)
    private var rateLimited = false
    /// Whether this socket holds a place in the registry and the limiter (admitted and not yet torn down).
    private var registered = false
    /// Why the socket is going, once known; a socket that just drops counts as `connection_lost`.
    private var closeReason: SocketCounters.Close?

    init(
        principal: Principal, authFailure: HeraldError?, since: Int64?,
        handshake: (clientAddress: String?, userAgent: String?), services: RealtimeServices,
        registry: SocketRegistry, shard: LoopRegistry
    ) {
        self.principal = principal
        self.authFailure = authFailure
        self.clientAddress = handshake.clientAddress
        self.userAgent = handshake.userAgent
        self.services = services
        self.registry = registry
        self.shard = shard
        self.machine = SessionStateMachine(resumeMax: services.resumeMax, since: since)
        self.id = shard.nextSessionID()
    }

    var entry: ConnectionLimiter.Entry { .init(sessionID: id, shard: shard.index) }

    var isClosing: Bool { machine.phase == .closing || machine.phase == .closed }

    /// This socket's row in the cluster's table of sockets (``SessionJournal``) once admitted, written again when
    /// the locations change or the instance's rows were forgotten while its lease had lapsed. Made when needed
    /// rather than kept: every socket would otherwise carry a second copy of what the principal holds.
    var record: ClusterStore.Opened? {
        connectedAt.map {
            ClusterStore.Opened(
                sessionID: sessionID, localID: id, userID: principal.userID, locations: principal.locations,
                connectedAt: $0, clientAddress: clientAddress, userAgent: userAgent)
        }
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        services.handshakes.opened()
        if context.channel.isActive { start() }
    }

    func channelActive(context: ChannelHandlerContext) {
        start()
        context.fireChannelActive()
    }

    private func start() {
        guard machine.phase == .awaitingActivation else { return }
        if let authFailure {
            shard.counters.connects[SocketCounters.Connect.unauthorized.rawValue] += 1
            return close(authFailure)
        }
        if registry.isDraining {
            shard.counters.connects[SocketCounters.Connect.draining.rawValue] += 1
            return close(.goingAway("server is shutting down"))
        }
        switch registry.limiter.admit(principal.userID, entry) {
        case .rejected:
            shard.counters.connects[SocketCounters.Connect.limited.rawValue] += 1
            return close(.tooManyRequests("connection limit reached"))
        case .admittedEvicting(let oldest):
            registry.close(oldest, with: .replaced("replaced by a newer session"))
        case .admitted:
            break
        }
        registered = true
        shard.counters.connects[SocketCounters.Connect.accepted.rawValue] += 1
        shard.add(self)
        connectedAt = Date()
        if let record { services.journal.opened(record) }
        let actions = machine.activated()
        write(
            ServerFrame.connection(
                sessionID: sessionID.lowercasedString, principal: principal,
                heartbeatInterval: services.heartbeatInterval), .connection)
        shard.expire(self)
        perform(actions)
    }

    func channelInactive(context: ChannelHandlerContext) {
        tearDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        tearDown()
        services.handshakes.closed()
        self.context = nil
    }

    private func tearDown() {
        machine.closed()
        guard registered else { return }
        registered = false
        shard.counters.closes[(closeReason ?? .lost).rawValue] += 1
        shard.remove(self)
        registry.limiter.release(principal.userID, entry)
        services.journal.closed(sessionID)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(.goingAway("connection error"), counted: .lost)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let closing = event as? SocketClosing, closeReason == nil {
            closeReason =
                closing.initiatedByPeer
                ? .client : SocketCounters.Close(code: Int(UInt16(webSocketErrorCode: closing.code)))
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The send buffer drained below its low mark: a paused replay goes on.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { sendReplay() }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing else { return }
        lastSeen = .now()
        switch unwrapInboundIn(data) {
        case .pong:
            return
        case .binary:
            shard.counters.inbound[SocketCounters.Inbound.binary.rawValue] += 1
            guard admitMessage() else { return }
            reject(FrameError(code: .badRequest, detail: "binary messages are not supported"))
        case .text(let text):
            guard admitMessage() else { return }
            do {
                let message = try ClientMessage.parse(text)
                shard.counters.inbound[message.kind.rawValue] += 1
                handle(message)
            } catch {
                shard.counters.inbound[SocketCounters.Inbound.invalid.rawValue] += 1
                reject(error)
            }
        }
    }

    /// Rate limiting: over the bucket, one `error` says so, and a flood that keeps going is closed with 1008.
    private func admitMessage() -> Bool {
        if bucket.take() {
            rateLimited = false
            return true
        }
        if !rateLimited {
            rateLimited = true
            write(ServerFrame.error(code: "rate_limited", detail: "too many messages"), .error)
        }
        violation()
        return false
    }

    private func reject(_ error: FrameError) {
        write(ServerFrame.error(code: error.code.rawValue, detail: error.detail), .error)
        violation()
    }

    /// A bad or excess message uses up patience; a client that keeps at it is closed with 1008.
    private func violation() {
        if !patience.take() { close(.policyViolation("too many invalid or excess messages")) }
    }

    private func handle(_ message: ClientMessage) {
        switch message {
        case .ping:
            write(ServerFrame.pong(), .pong)
        case .subscribe(let types):
            perform(machine.subscribe(types))
        case .unsubscribe(let types):
            perform(machine.unsubscribe(types))
        case .ack(let ids):
            perform(machine.ack(ids))
        case .resume(let since):
            perform(machine.resume(since: since))
        case .auth(let token):
            refresh(token)
        }
    }

    // MARK: Actions

    private func perform(_ action: SessionStateMachine.Action?) {
        guard let action else { return }
        switch action {
        case .send(let frame):
            send(frame)
        case .loadReplay(let since):
            loadReplay(after: since)
        case .acknowledge(let ids):
            acknowledge(ids)
        case .close(let reason):
            carryOutClose(reason, peerUnresponsive: false)
        }
    }

    private func perform(_ actions: [SessionStateMachine.Action]) {
        for action in actions { perform(action) }
    }

    private func send(_ frame: SessionStateMachine.OutboundFrame) {
        switch frame {
        case .notification(_, let encoded): write(encoded, .notification)
        case .replayed(let item): write(ServerFrame.notification(item), .notification)
        case .reset(let detail): write(ServerFrame.reset(detail), .reset)
        case .error(let code, let detail): write(ServerFrame.error(code: code, detail: detail), .error)
        case .subscribed(let types): write(ServerFrame.subscribed(types), .subscribed)
        }
    }

    // MARK: Outbound

    /// Sends a frame of type `kind`, or closes with 1008 if the peer has let `WS_SEND_BUFFER_BYTES` pile up unread.
    func write(_ buffer: ByteBuffer, _ kind: SocketCounters.Outbound) {
        write(EncodedFrame(text: buffer), kind)
    }

    /// Sends a frame encoded once for all its recipients; with `flush: false` it waits in the channel for the
    /// next ``flush()``.
    func write(_ frame: EncodedFrame, _ kind: SocketCounters.Outbound, flush: Bool = true) {
        guard let context, !isClosing else { return }
        guard context.channel.isWritable else {
            return close(.policyViolation("send buffer full"), peerUnresponsive: true, counted: .sendBuffer)
        }
        shard.counters.outbound[kind.rawValue] += 1
        if flush {
            context.writeAndFlush(wrapOutboundOut(.encoded(frame)), promise: nil)
        } else {
            context.write(wrapOutboundOut(.encoded(frame)), promise: nil)
        }
    }

    func flush() {
        context?.flush()
    }

    /// A live notification (already checked as visible by the registry). It is written but not flushed, and the
    /// answer says so: the registry flushes each socket once for a burst of notifications (``LoopRegistry``), so
    /// they leave in one system call. Anything else the session decides (a `reset` after a replay that fell too
    /// far behind) is flushed at once.
    func deliver(id: Int64, frame: EncodedFrame) -> Bool {
        guard let action = machine.deliver(id: id, frame: frame) else { return false }
        if case .send(.notification(_, let encoded)) = action {
            write(encoded, .notification, flush: false)
            return true
        }
        perform(action)
        return false
    }

    func accepts(eventType: String) -> Bool {
        machine.accepts(eventType: eventType)
    }

    func ping() {
        guard let context, !isClosing, context.channel.isWritable else { return }
        context.writeAndFlush(
            wrapOutboundOut(
                .frame(WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0)))),
            promise: nil)
    }

    /// Closes with `reason`'s close code. A peer that is dead or not reading is not waited for. `counted` names the
    /// reason for `herald_closes_total` where the close code alone does not tell it.
    func close(_ reason: HeraldError, peerUnresponsive: Bool = false, counted: SocketCounters.Close? = nil) {
        guard case .close? = machine.close(reason) else { return }
        closeReason = counted ?? SocketCounters.Close(code: Int(UInt16(webSocketErrorCode: reason.closeCode)))
        carryOutClose(reason, peerUnresponsive: peerUnresponsive)
    }

    private func carryOutClose(_ reason: HeraldError, peerUnresponsive: Bool) {
        guard let context else { return }
        context.triggerUserOutboundEvent(
            CloseRequest(code: reason.closeCode, reason: reason.closeReason, peerCanAnswer: !peerUnresponsive),
            promise: nil)
    }

    // MARK: Work off the loop

    /// Runs `work` off the event loop and hands its result back to this session on its loop.
    private func offLoop<T: Sendable>(
        _ work: @escaping @Sendable () async throws -> T, then: @escaping (SessionHandler, Result<T, any Error>) -> Void
    ) {
        guard let loop = context?.eventLoop else { return }
        let bound = NIOLoopBound(self, eventLoop: loop)
        let then = NIOLoopBound(then, eventLoop: loop)
        Task {
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            loop.execute { then.value(bound.value, result) }
        }
    }

    private func loadReplay(after since: Int64) {
        let principal = principal
        let services = services
        offLoop({ try await services.inbox.replay(principal, after: since, limit: services.resumeMax + 1) }) {
            session, result in
            if case .failure(let error) = result {
                session.services.logger.warning(
                    "resume failed", metadata: ["error": "\(DatabaseFailure.description(of: error))"])
                session.services.metrics.databaseError("realtime")
            }
            session.perform(session.machine.replayLoaded(result))
            session.sendReplay()
        }
    }

    /// Sends what the replay has left while the channel takes it; a full send buffer pauses it until
    /// ``channelWritabilityChanged(context:)``, instead of closing a client that resumed a long gap.
    private func sendReplay() {
        while let context, context.channel.isWritable, !isClosing, let action = machine.nextReplayFrame() {
            perform(action)
        }
    }

    private func acknowledge(_ ids: [Int64]) {
        let principal = principal
        let inbox = services.inbox
        offLoop({ try await inbox.markDelivered(principal, ids: ids) }) { session, result in
            let succeeded = (try? result.get()) != nil
            if !succeeded { session.services.metrics.databaseError("realtime") }
            session.perform(session.machine.acknowledged(succeeded))
        }
    }

    /// Verification is synchronous (``TokenVerifier``), so a refresh is answered on the loop, in order.
    private func refresh(_ token: String) {
        finishRefresh(Result { try services.verifier.verify(token) })
    }

    private func finishRefresh(_ result: Result<Principal, any Error>) {
        guard !isClosing else { return }
        switch result {
        case .success(let fresh) where fresh.userID == principal.userID:
            // The new token may move the user between locations; staff publishing goes by the latest.
            services.membership.remember(fresh)
            let old = principal
            principal = fresh
            shard.relocate(self, from: old.locations)
            if let record, old.locations != fresh.locations { services.journal.opened(record) }
            shard.expire(self, replacing: old.expiresAt)
            write(ServerFrame.authOK(exp: fresh.expiresAt), .authOK)
        case .success:
            write(ServerFrame.error(code: "auth_failed", detail: "the new token is for another user"), .error)
        case .failure(let error as HeraldError):
            write(ServerFrame.error(code: "auth_failed", detail: error.closeReason), .error)
        case .failure:
            write(ServerFrame.error(code: "auth_failed", detail: "invalid token"), .error)
        }
    }
}
