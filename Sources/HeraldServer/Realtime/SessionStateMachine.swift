import NIOCore

/// The life of one authenticated socket as a value that decides, and returns what to do: ``SessionHandler`` only
/// carries out its actions (writes, queries, closes), so every rule below is tested without a socket.
///
/// A session is awaiting activation, then live, then closing, then closed. While live it may be replaying what
/// the client missed (`since` or `resume`): the replay is loaded, then sent item by item only while the channel
/// is writable, and live notifications that arrive meanwhile wait in a buffer and follow it.
///
/// Resume without gaps or duplicates rests on two facts: ids are assigned in commit order, and NOTIFY arrives in
/// commit order. A resuming session is registered first, so every live notification from then on reaches it,
/// and buffers those while it replays `id > since` from a snapshot taken after registering. Each committed
/// notification is therefore in the replay, in the buffer, or both; ``lastSentID`` drops the overlap, and since
/// later commits carry larger ids, nothing is skipped by sending strictly increasing ids.
///
/// It also bounds what one client can make the server do: one replay at a time, one ack statement in flight (the
/// rest merged into the next, up to ``maxQueuedAcks``), at most ``maxEventTypes`` subscriptions, and a buffer of
/// live notifications during a replay of at most `resumeMax` before the client is told to refetch instead.
struct SessionStateMachine {
    static let maxEventTypes = 256
    static let maxQueuedAcks = 10_000

    enum Phase: Equatable {
        case awaitingActivation
        case live
        case closing
        case closed
    }

    /// What the handler must do.
    enum Action: Equatable {
        /// Write this frame now.
        case send(OutboundFrame)
        /// Load the replay of ids above `since` (``replayLoaded(_:)`` follows).
        case loadReplay(since: Int64)
        /// Record delivery of these ids (``acknowledged(_:)`` follows).
        case acknowledge([Int64])
        /// Close the socket with this error's code.
        case close(HeraldError)
    }

    /// A frame the session sends: pre-encoded and shared by many sockets, or one of its own.
    enum OutboundFrame: Equatable {
        case notification(id: Int64, EncodedFrame)
        case replayed(InboxItem)
        case reset(String)
        case error(code: String, detail: String)
        case subscribed([String])
    }

    private enum Replay {
        case loading(buffered: [(Int64, EncodedFrame)])
        case sending(items: ArraySlice<InboxItem>, buffered: [(Int64, EncodedFrame)])
    }

    let resumeMax: Int
    private(set) var phase = Phase.awaitingActivation
    /// Whether the client connected with `since`: it holds everything up to ``lastSentID``, and the rest is
    /// replayed once the socket is admitted.
    private let resumesOnActivation: Bool
    /// The highest notification id sent: nothing at or below it is sent again.
    private(set) var lastSentID: Int64
    private var replay: Replay?
    private(set) var subscriptions: Set<String>?
    private var acking = false
    private var queuedAcks: [Int64] = []
    private var queuedAckSet: Set<Int64> = []

    /// With `since`, the client holds everything up to it: nothing at or below it is sent, and what is above it
    /// is replayed when the socket is admitted.
    init(resumeMax: Int, since: Int64? = nil) {
        self.resumeMax = resumeMax
        self.resumesOnActivation = since != nil
        self.lastSentID = since ?? 0
    }

    var isLive: Bool { phase == .live }
    var isReplaying: Bool { replay != nil }

    // MARK: Lifecycle

    /// The socket was admitted: live, and replaying from `since` if it connected with one.
    mutating func activated() -> [Action] {
        guard phase == .awaitingActivation else { return [] }
        phase = .live
        guard resumesOnActivation else { return [] }
        replay = .loading(buffered: [])
        return [.loadReplay(since: lastSentID)]
    }

    /// The socket must go with `reason`; `nil` if it is already going.
    mutating func close(_ reason: HeraldError) -> Action? {
        guard phase == .awaitingActivation || phase == .live else { return nil }
        phase = .closing
        replay = nil
        return .close(reason)
    }

    /// The channel is gone.
    mutating func closed() {
        phase = .closed
        replay = nil
    }

    // MARK: Live notifications and the replay

    /// A live notification for this socket: sent now, kept for after the replay, or dropped as already sent.
    mutating func deliver(id: Int64, frame: EncodedFrame) -> Action? {
        guard phase == .live, id > lastSentID else { return nil }
        switch replay {
        case .none:
            lastSentID = id
            return .send(.notification(id: id, frame))
        case .loading(var buffered):
            guard buffered.count < resumeMax else { return abandonReplay() }
            buffered.append((id, frame))
            replay = .loading(buffered: buffered)
            return nil
        case .sending(let items, var buffered):
            guard buffered.count < resumeMax else { return abandonReplay() }
            buffered.append((id, frame))
            replay = .sending(items: items, buffered: buffered)
            return nil
        }
    }

    /// Too much arrived while a slow client was being replayed to: it is told to refetch, and goes live.
    private mutating func abandonReplay() -> Action {
        replay = nil
        return .send(.reset("too many notifications arrived during the replay; refetch the inbox"))
    }

    /// A `resume` frame: a replay from `since`, unless one is running.
    mutating func resume(since: Int64) -> Action? {
        guard phase == .live else { return nil }
        guard replay == nil else {
            return .send(.error(code: "resume_in_progress", detail: "a resume is already running"))
        }
        lastSentID = since
        replay = .loading(buffered: [])
        return .loadReplay(since: since)
    }

    /// The replay's query answered: up to `resumeMax + 1` items above `since`, or a failure. Past `resumeMax` the
    /// client is told to refetch; otherwise the items go out through ``nextReplayFrame()``.
    mutating func replayLoaded(_ result: Result<[InboxItem], any Error>) -> [Action] {
        guard phase == .live, case .loading(let buffered) = replay else { return [] }
        switch result {
        case .success(let items) where items.count <= resumeMax:
            replay = .sending(items: items[...], buffered: buffered)
            return []
        case .success:
            replay = .sending(items: [], buffered: buffered)
            return [.send(.reset("more than \(resumeMax) notifications were missed; refetch the inbox"))]
        case .failure:
            replay = .sending(items: [], buffered: buffered)
            return [.send(.reset("resume is unavailable right now; refetch the inbox"))]
        }
    }

    /// The next frame of the replay, then of the live notifications buffered during it; `nil` once both are out
    /// (the session is then plainly live). The handler asks only while its channel is writable, so a long replay
    /// of large items never outgrows the send buffer.
    mutating func nextReplayFrame() -> Action? {
        while case .sending(var items, var buffered) = replay {
            if let item = items.popFirst() {
                replay = .sending(items: items, buffered: buffered)
                guard item.id > lastSentID else { continue }
                lastSentID = item.id
                return .send(.replayed(item))
            }
            guard !buffered.isEmpty else {
                replay = nil
                return nil
            }
            let (id, frame) = buffered.removeFirst()
            replay = .sending(items: [], buffered: buffered)
            guard id > lastSentID else { continue }
            lastSentID = id
            return .send(.notification(id: id, frame))
        }
        return nil
    }

    // MARK: Acks and subscriptions

    /// An `ack`: one statement at a time; ids that arrive meanwhile go into the next one.
    mutating func ack(_ ids: [Int64]) -> Action? {
        guard phase == .live else { return nil }
        guard acking else {
            acking = true
            return .acknowledge(ids)
        }
        let fresh = ids.filter { !queuedAckSet.contains($0) }
        guard queuedAcks.count + fresh.count <= Self.maxQueuedAcks else {
            return .send(.error(code: "rate_limited", detail: "too many acks waiting; send these again later"))
        }
        for id in fresh where queuedAckSet.insert(id).inserted { queuedAcks.append(id) }
        return nil
    }

    /// The ack statement finished; the merged ids that waited go next.
    mutating func acknowledged(_ succeeded: Bool) -> [Action] {
        var actions: [Action] = []
        if !succeeded, phase == .live {
            actions.append(.send(.error(code: "unavailable", detail: "could not record the ack; send it again")))
        }
        guard phase == .live, !queuedAcks.isEmpty else {
            acking = false
            return actions
        }
        actions.append(.acknowledge(queuedAcks))
        queuedAcks = []
        queuedAckSet = []
        return actions
    }

    /// A `subscribe`: the set grows, up to ``maxEventTypes``.
    mutating func subscribe(_ types: [String]) -> Action? {
        guard phase == .live else { return nil }
        let union = (subscriptions ?? []).union(types)
        guard union.count <= Self.maxEventTypes else {
            return .send(
                .error(
                    code: "invalid_field",
                    detail: "event_types: a socket subscribes to at most \(Self.maxEventTypes) event types"))
        }
        subscriptions = union
        return .send(.subscribed(union.sorted()))
    }

    /// An `unsubscribe`; with nothing left, every event is delivered again.
    mutating func unsubscribe(_ types: [String]) -> Action? {
        guard phase == .live else { return nil }
        let remaining = (subscriptions ?? []).subtracting(types)
        subscriptions = remaining.isEmpty ? nil : remaining
        return .send(.subscribed(remaining.sorted()))
    }

    /// Whether an ephemeral event of `eventType` passes the subscription filter.
    func accepts(eventType: String) -> Bool {
        subscriptions?.contains(eventType) ?? true
    }
}
