import NIOCore
import Testing

@testable import HeraldServer

/// The session's decisions, without a socket: resume without gaps or duplicates, a replay paced by the caller,
/// one ack in flight, bounded subscriptions, and nothing done once it is closing.
@Suite("Session state machine")
struct SessionStateMachineTests {
    static func frame(_ id: Int64) -> EncodedFrame { EncodedFrame(text: ByteBuffer(string: "{\"id\":\(id)}")) }

    static func item(_ id: Int64) -> InboxItem {
        InboxItem(
            id: id, type: "system", priority: "medium", title: "t", message: "m", dataJSON: "{}", readAt: nil,
            createdAt: "2026-01-01T00:00:00.000Z", actionURL: nil, locationID: nil, expiresAt: nil,
            deliveredAt: nil, collapseKey: nil)
    }

    /// Every notification id the machine has the handler send, replayed or live, until the replay is drained.
    static func drain(_ machine: inout SessionStateMachine) -> [Int64] {
        var sent: [Int64] = []
        while let action = machine.nextReplayFrame() {
            switch action {
            case .send(.replayed(let item)): sent.append(item.id)
            case .send(.notification(let id, _)): sent.append(id)
            default: Issue.record("unexpected \(action)")
            }
        }
        return sent
    }

    @Test("a live socket gets each notification once, in order")
    func live() {
        var machine = SessionStateMachine(resumeMax: 10)
        #expect(machine.activated().isEmpty)
        #expect(machine.deliver(id: 5, frame: Self.frame(5)) == .send(.notification(id: 5, Self.frame(5))))
        #expect(machine.deliver(id: 5, frame: Self.frame(5)) == nil)
        #expect(machine.deliver(id: 4, frame: Self.frame(4)) == nil)
        #expect(machine.lastSentID == 5)
    }

    @Test("a resume replays, then sends what arrived meanwhile, skipping the overlap: no gap, no duplicate")
    func resumeSeam() {
        var machine = SessionStateMachine(resumeMax: 10, since: 10)
        #expect(machine.activated() == [.loadReplay(since: 10)])
        // Live notifications arrive while the replay loads; 12 is in both.
        #expect(machine.deliver(id: 12, frame: Self.frame(12)) == nil)
        #expect(machine.deliver(id: 13, frame: Self.frame(13)) == nil)
        #expect(machine.deliver(id: 9, frame: Self.frame(9)) == nil)
        #expect(machine.replayLoaded(.success([Self.item(11), Self.item(12)])).isEmpty)
        #expect(Self.drain(&machine) == [11, 12, 13])
        #expect(!machine.isReplaying)
        #expect(machine.deliver(id: 14, frame: Self.frame(14)) == .send(.notification(id: 14, Self.frame(14))))
    }

    @Test("the replay goes out only as fast as the caller asks for it")
    func pacedReplay() {
        var machine = SessionStateMachine(resumeMax: 100, since: 0)
        _ = machine.activated()
        _ = machine.replayLoaded(.success((1...50).map { Self.item($0) }))
        // The handler stops asking while its channel is not writable; nothing is lost in between.
        #expect(machine.nextReplayFrame() == .send(.replayed(Self.item(1))))
        #expect(machine.deliver(id: 51, frame: Self.frame(51)) == nil)
        #expect(Self.drain(&machine) == Array(2...51))
    }

    @Test("more than resumeMax missed, or a failed load, is a reset; the buffered live ones still follow")
    func resetPaths() {
        var machine = SessionStateMachine(resumeMax: 2, since: 0)
        _ = machine.activated()
        _ = machine.deliver(id: 10, frame: Self.frame(10))
        let reset = machine.replayLoaded(.success([Self.item(1), Self.item(2), Self.item(3)]))
        #expect(reset.count == 1)
        guard case .send(.reset(let detail))? = reset.first else { Issue.record("no reset: \(reset)"); return }
        #expect(detail.contains("more than 2"))
        #expect(Self.drain(&machine) == [10])

        struct Failure: Error {}
        #expect(machine.resume(since: 10) == .loadReplay(since: 10))
        guard case .send(.reset)? = machine.replayLoaded(.failure(Failure())).first else {
            Issue.record("no reset after a failed load")
            return
        }
    }

    @Test("a second resume while one runs is refused; the buffer of a slow replay is bounded")
    func oneReplayAtATime() {
        var machine = SessionStateMachine(resumeMax: 3)
        _ = machine.activated()
        #expect(machine.resume(since: 0) == .loadReplay(since: 0))
        #expect(
            machine.resume(since: 0)
                == .send(.error(code: "resume_in_progress", detail: "a resume is already running")))
        for id in Int64(1)...3 { #expect(machine.deliver(id: id, frame: Self.frame(id)) == nil) }
        guard case .send(.reset)? = machine.deliver(id: 4, frame: Self.frame(4)) else {
            Issue.record("an overflowing buffer must reset")
            return
        }
        #expect(!machine.isReplaying)
        #expect(machine.deliver(id: 5, frame: Self.frame(5)) == .send(.notification(id: 5, Self.frame(5))))
    }

    @Test("one ack statement at a time; the rest are merged into the next, up to a bound")
    func acks() {
        var machine = SessionStateMachine(resumeMax: 10)
        _ = machine.activated()
        #expect(machine.ack([1, 2]) == .acknowledge([1, 2]))
        #expect(machine.ack([3, 4]) == nil)
        #expect(machine.ack([4, 5]) == nil)
        #expect(machine.acknowledged(true) == [.acknowledge([3, 4, 5])])
        #expect(machine.acknowledged(true).isEmpty)
        #expect(machine.ack([6]) == .acknowledge([6]))
        let many = (Int64(100)..<Int64(100 + SessionStateMachine.maxQueuedAcks)).map { $0 }
        #expect(machine.ack(many) == nil)
        guard case .send(.error(let code, _))? = machine.ack([7]) else { Issue.record("no bound"); return }
        #expect(code == "rate_limited")
        let failed = machine.acknowledged(false)
        #expect(failed.first == .send(.error(code: "unavailable", detail: "could not record the ack; send it again")))
        #expect(failed.last == .acknowledge(many))
    }

    @Test("subscriptions are capped at 256 event types, and the set is kept when refused")
    func subscriptionCap() {
        var machine = SessionStateMachine(resumeMax: 10)
        _ = machine.activated()
        let first = (0..<200).map { "type-\($0)" }
        guard case .send(.subscribed(let types))? = machine.subscribe(first) else { Issue.record("refused"); return }
        #expect(types.count == 200)
        guard case .send(.error(let code, _))? = machine.subscribe((200..<300).map { "type-\($0)" }) else {
            Issue.record("the cap was not enforced")
            return
        }
        #expect(code == "invalid_field")
        #expect(machine.subscriptions?.count == 200)
        #expect(machine.accepts(eventType: "type-1") && !machine.accepts(eventType: "type-250"))
        _ = machine.unsubscribe(first)
        #expect(machine.accepts(eventType: "anything"))
    }

    @Test("once closing, nothing is sent, loaded or closed again")
    func closing() {
        var machine = SessionStateMachine(resumeMax: 10, since: 0)
        _ = machine.activated()
        #expect(machine.close(.goingAway("bye")) == .close(.goingAway("bye")))
        #expect(machine.close(.goingAway("again")) == nil)
        #expect(machine.deliver(id: 1, frame: Self.frame(1)) == nil)
        #expect(machine.replayLoaded(.success([Self.item(1)])).isEmpty)
        #expect(machine.nextReplayFrame() == nil)
        #expect(machine.resume(since: 0) == nil)
        #expect(machine.ack([1]) == nil)
    }
}
