import Testing

@testable import HeraldServer

/// The decisions behind the listening channel: which connection is admitted, refused or asked to quiesce, and when
/// a drain is over. (Each decision is taken into a constant first: `#expect` cannot call a mutating method.)
@Suite("Open connections")
struct OpenConnectionsTests {
    /// Stands for an accepted channel: its identity is the connection's key.
    private final class Connection {
        var id: ObjectIdentifier { ObjectIdentifier(self) }
    }

    @Test("past the cap a connection is refused; only the first refusal of a stretch starts it")
    func cap() {
        var connections = OpenConnections<Int>(cap: 2)
        let accepted = (0..<5).map { _ in Connection() }
        let admissions = (0..<4).map { connections.accept($0, id: accepted[$0].id) }
        #expect(admissions == [.admit, .admit, .refuse(startsStretch: true), .refuse(startsStretch: false)])
        #expect(connections.count == 2)

        // A close makes room, and the next refusal is the start of a new stretch.
        let endedDrain = connections.closed(accepted[0].id)
        let afterClose = [connections.accept(4, id: accepted[4].id), connections.accept(2, id: accepted[2].id)]
        #expect(!endedDrain)
        #expect(afterClose == [.admit, .refuse(startsStretch: true)])
    }

    @Test("a close of a connection never admitted changes nothing")
    func unknownClose() {
        var connections = OpenConnections<Int>(cap: 1)
        let admitted = Connection()
        let stranger = Connection()
        let admission = connections.accept(0, id: admitted.id)
        let endedDrain = connections.closed(stranger.id)
        #expect(admission == .admit)
        #expect(!endedDrain)
        #expect(connections.count == 1)
    }

    @Test("a drain quiesces what is open, admits latecomers quiescing, and ends when the last closes")
    func drain() throws {
        var connections = OpenConnections<Int>(cap: 10)
        let accepted = (0..<3).map { _ in Connection() }
        _ = connections.accept(0, id: accepted[0].id)
        _ = connections.accept(1, id: accepted[1].id)

        let drain = connections.drain()
        let secondDrain = connections.drain()
        let started = try #require(drain)
        #expect(started.quiesce.sorted() == [0, 1])
        #expect(!started.finished)
        #expect(secondDrain == nil)

        let latecomer = connections.accept(2, id: accepted[2].id)
        #expect(latecomer == .admitQuiescing)
        let endings = accepted.map { connections.closed($0.id) }
        #expect(endings == [false, false, true])
        #expect(connections.phase == .drained)

        // After the drain nothing is admitted, however far below the cap.
        let afterDrain = connections.accept(3, id: Connection().id)
        #expect(afterDrain == .refuse(startsStretch: true))
    }

    @Test("a drain with nothing open is over at once")
    func emptyDrain() throws {
        var connections = OpenConnections<Int>(cap: 10)
        let drain = connections.drain()
        let started = try #require(drain)
        #expect(started.quiesce.isEmpty)
        #expect(started.finished)
        #expect(connections.phase == .drained)
    }
}
