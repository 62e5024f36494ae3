import Foundation
import NIOCore
import NIOWebSocket

/// One authenticated socket speaking the JSON protocol of SPEC §4. It lives on its channel's event loop, and so
/// does the ``LoopRegistry`` that indexes it, so delivery to it is a plain method call with no locks.
///
/// Resume without gaps or duplicates rests on two facts: ids are assigned in commit order (``InboxStore``), and
/// NOTIFY arrives in commit order. A resuming session registers first, so every live notification from then on
/// reaches it, and buffers those while it replays `id > since` from a snapshot taken after registering. Each
/// committed notification is therefore in the replay, in the buffer, or both; `lastSentID` drops the overlap,
/// and since later commits carry larger ids, nothing can be skipped by sending strictly increasing ids.
final class SessionHandler: ChannelInboundHandler {
    typealias InboundIn = InboundMessage
    typealias OutboundOut = WebSocketFrame

    /// Messages a client may send in a burst, and per second after it.
    static let burst = 40.0
    static let perSecond = 20.0
    /// Bad or rate-limited messages tolerated in a burst, and forgiven per second: past them, close with 1008.
    static let violationBurst = 40.0
    static let violationsForgivenPerSecond = 1.0

    let id: UInt64
    private(set) var principal: Principal
    private let sessionID = UUID()
    private let services: RealtimeServices
    private let registry: SocketRegistry
    private let shard: LoopRegistry
    private let authFailure: HeraldError?
    private let since: Int64?
    private var context: ChannelHandlerContext?
    /// NIOWebSocket's encoder's context. What is written from it goes to the socket as it is, which is where an
    /// ``EncodedFrame`` goes: framed once for all its recipients, not once per socket by the encoder.
    private var wire: ChannelHandlerContext?
    private var lastSentID: Int64 = 0
    /// Live notifications that arrived during a replay; `nil` when not replaying.
    private var pending: [(Int64, EncodedFrame)]?
    private var subscriptions: Set<String>?
    private(set) var lastSeen = NIODeadline.now()
    private var bucket = TokenBucket(burst: SessionHandler.burst, perSecond: SessionHandler.perSecond)
    private var patience = TokenBucket(
        burst: SessionHandler.violationBurst, perSecond: SessionHandler.violationsForgivenPerSecond)
    private var rateLimited = false
    private var expiry: Scheduled<Void>?
    private(set) var isClosing = false
    private var registered = false
    /// Why the socket is going, once known; a socket that just drops counts as `connection_lost`.
    private var closeReason: SocketCounters.Close?

    init(
        principal: Principal, authFailure: HeraldError?, since: Int64?, services: RealtimeServices,
        registry: SocketRegistry, shard: LoopRegistry
    ) {
        self.principal = principal
        self.authFailure = authFailure
        self.since = since
        self.services = services
        self.registry = registry
        self.shard = shard
        self.id = shard.nextSessionID()
    }

    var entry: ConnectionLimiter.Entry { .init(sessionID: id, shard: shard.index) }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        wire = try? context.pipeline.syncOperations.context(handlerType: WebSocketFrameEncoder.self)
        services.handshakes.opened()
        // Every upgrade installs the encoder first; without it nothing could be sent.
        guard wire != nil else { return context.close(promise: nil) }
        if context.channel.isActive { start() }
    }

    func channelActive(context: ChannelHandlerContext) {
        start()
        context.fireChannelActive()
    }

    private func start() {
        guard !registered, !isClosing else { return }
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
        // The client holds everything up to `since`; live notifications at or below it are not sent again.
        if let since { lastSentID = since }
        shard.add(self)
        write(
            ServerFrame.connection(
                sessionID: sessionID.uuidString.lowercased(), principal: principal,
                heartbeatInterval: services.heartbeatInterval), .connection)
        scheduleExpiry()
        if let since { replay(after: since) }
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
        expiry?.cancel()
        expiry = nil
        guard registered else { return }
        registered = false
        shard.counters.closes[(closeReason ?? .lost).rawValue] += 1
        shard.remove(self)
        registry.limiter.release(principal.userID, entry)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(.goingAway("connection error"), counted: .lost)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let sent = event as? CloseSentEvent, closeReason == nil {
            closeReason = SocketCounters.Close(code: Int(UInt16(webSocketErrorCode: sent.code)))
        } else if event is PeerClosedEvent, closeReason == nil {
            closeReason = .client
        }
        context.fireUserInboundEventTriggered(event)
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
            subscriptions = (subscriptions ?? []).union(types)
            write(ServerFrame.subscribed(subscriptions.map { $0.sorted() } ?? []), .subscribed)
        case .unsubscribe(let types):
            let remaining = (subscriptions ?? []).subtracting(types)
            subscriptions = remaining.isEmpty ? nil : remaining
            write(ServerFrame.subscribed(subscriptions.map { $0.sorted() } ?? []), .subscribed)
        case .ack(let ids):
            acknowledge(ids)
        case .resume(let since):
            guard pending == nil else {
                return write(
                    ServerFrame.error(code: "resume_in_progress", detail: "a resume is already running"), .error)
            }
            lastSentID = since
            replay(after: since)
        case .auth(let token):
            refresh(token)
        }
    }

    // MARK: Outbound

    /// Sends a frame of type `kind`, or closes with 1008 if the peer has let `WS_SEND_BUFFER_BYTES` pile up unread.
    func write(_ buffer: ByteBuffer, _ kind: SocketCounters.Outbound) {
        write(EncodedFrame(text: buffer), kind)
    }

    /// Sends a frame encoded once for all its recipients.
    func write(_ frame: EncodedFrame, _ kind: SocketCounters.Outbound) {
        guard let context, let wire, !isClosing else { return }
        guard context.channel.isWritable else {
            return close(.policyViolation("send buffer full"), peerUnresponsive: true, counted: .sendBuffer)
        }
        shard.counters.outbound[kind.rawValue] += 1
        wire.writeAndFlush(NIOAny(frame.bytes), promise: nil)
    }

    /// A live notification (already checked as visible by the registry).
    func deliver(id: Int64, frame: EncodedFrame) {
        guard id > lastSentID else { return }
        if pending != nil {
            pending?.append((id, frame))
            return
        }
        lastSentID = id
        write(frame, .notification)
    }

    func accepts(eventType: String) -> Bool {
        subscriptions?.contains(eventType) ?? true
    }

    func ping() {
        guard let context, !isClosing, context.channel.isWritable else { return }
        context.writeAndFlush(
            wrapOutboundOut(
                WebSocketFrame(fin: true, opcode: .ping, data: context.channel.allocator.buffer(capacity: 0))),
            promise: nil)
    }

    /// Closes with `reason`'s close code. A peer that is dead or not reading is not waited for. `counted` names the
    /// reason for `herald_closes_total` where the close code alone does not tell it.
    func close(_ reason: HeraldError, peerUnresponsive: Bool = false, counted: SocketCounters.Close? = nil) {
        guard let context, !isClosing else { return }
        isClosing = true
        closeReason = counted ?? SocketCounters.Close(code: Int(UInt16(webSocketErrorCode: reason.closeCode)))
        WebSocketCloser.close(
            context: context, code: reason.closeCode, reason: reason.closeReason, awaitReply: !peerUnresponsive)
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

    private func replay(after since: Int64) {
        pending = []
        let principal = principal
        let services = services
        offLoop({ try await services.inbox.replay(principal, after: since, limit: services.resumeMax + 1) }) {
            session, result in session.finishReplay(result)
        }
    }

    private func finishReplay(_ result: Result<[InboxItem], any Error>) {
        guard let buffered = pending else { return }
        pending = nil
        switch result {
        case .success(let items) where items.count > services.resumeMax:
            write(
                ServerFrame.reset("more than \(services.resumeMax) notifications were missed; refetch the inbox"),
                .reset)
        case .success(let items):
            for item in items where item.id > lastSentID {
                lastSentID = item.id
                write(ServerFrame.notification(item), .notification)
            }
        case .failure(let error):
            services.logger.warning(
                "resume failed", metadata: ["error": "\(DatabaseFailure.description(of: error))"])
            services.metrics.databaseError("realtime")
            write(ServerFrame.reset("resume is unavailable right now; refetch the inbox"), .reset)
        }
        for (id, frame) in buffered { deliver(id: id, frame: frame) }
    }

    private func acknowledge(_ ids: [Int64]) {
        let principal = principal
        let inbox = services.inbox
        offLoop({ try await inbox.markDelivered(principal, ids: ids) }) { session, result in
            if case .failure = result {
                session.services.metrics.databaseError("realtime")
                session.write(
                    ServerFrame.error(code: "unavailable", detail: "could not record the ack; send it again"), .error)
            }
        }
    }

    private func refresh(_ token: String) {
        let verifier = services.verifier
        offLoop({ try await verifier.verify(token) }) { session, result in session.finishRefresh(result) }
    }

    private func finishRefresh(_ result: Result<Principal, any Error>) {
        switch result {
        case .success(let fresh) where fresh.userID == principal.userID:
            // The new token may move the user between locations; staff publishing goes by the latest.
            services.membership.remember(fresh)
            let old = principal
            principal = fresh
            shard.relocate(self, from: old.locations)
            scheduleExpiry()
            write(ServerFrame.authOK(exp: fresh.expiresAt), .authOK)
        case .success:
            write(ServerFrame.error(code: "auth_failed", detail: "the new token is for another user"), .error)
        case .failure(let error as HeraldError):
            write(ServerFrame.error(code: "auth_failed", detail: error.closeReason), .error)
        case .failure:
            write(ServerFrame.error(code: "auth_failed", detail: "invalid token"), .error)
        }
    }

    /// Closes with 4401 once the token's `exp` passes; a client refreshes before then with `{"type":"auth"}`.
    private func scheduleExpiry() {
        guard let loop = context?.eventLoop else { return }
        expiry?.cancel()
        let seconds = max(0, principal.expiresAt - Date().timeIntervalSince1970)
        let bound = NIOLoopBound(self, eventLoop: loop)
        expiry = loop.scheduleTask(in: .nanoseconds(Int64(min(seconds, 1e9) * 1e9))) {
            bound.value.close(.unauthorized("token expired"))
        }
    }
}
