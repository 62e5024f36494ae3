import Testing

@testable import HeraldServer

@Suite("Expiry wheel")
struct ExpiryWheelTests {
    @Test("items come out at their second, once; a second already handled is refused so the caller acts now")
    func dueOnce() {
        var wheel = ExpiryWheel<Int>(now: 100)
        let refused = wheel.add(1, at: 100)
        #expect(!refused, "the current second is already handled")
        let filed = [wheel.add(2, at: 101), wheel.add(3, at: 103), wheel.add(3, at: 103)]
        #expect(filed == [true, true, true])
        #expect(wheel.count == 2, "the same key twice in a second is one item")
        let early = wheel.take(through: 100)
        #expect(early.isEmpty)
        let first = wheel.take(through: 102)
        #expect(first == [2])
        let again = wheel.take(through: 102)
        #expect(again.isEmpty, "the same second again takes nothing")
        let second = wheel.take(through: 105)
        #expect(second == [3])
        #expect(wheel.count == 0)
    }

    @Test("a removed item never comes out; removing what is not there changes nothing")
    func removal() {
        var wheel = ExpiryWheel<Int>(now: 0)
        _ = wheel.add(7, at: 5)
        _ = wheel.add(8, at: 5)
        wheel.remove(7, at: 5)
        wheel.remove(7, at: 5)
        wheel.remove(9, at: 6)
        #expect(wheel.count == 1)
        let taken = wheel.take(through: 10)
        #expect(taken == [8])
    }

    @Test("a clock set back takes nothing until it is past the last second handled; a long jump takes everything due")
    func clockSteps() {
        var wheel = ExpiryWheel<Int>(now: 1_000)
        _ = wheel.add(1, at: 1_001)
        _ = wheel.add(2, at: 50_000)
        _ = wheel.add(3, at: 90_000)
        let setBack = wheel.take(through: 990)
        #expect(setBack.isEmpty)
        #expect(wheel.handledThrough == 1_000)
        let jumped = wheel.take(through: 60_000)
        #expect(Set(jumped) == [1, 2])
        let last = wheel.take(through: 90_000)
        #expect(last == [3])
    }
}
