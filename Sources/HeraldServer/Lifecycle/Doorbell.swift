/// Wakes a service's loop when there is work, without a task per wake-up: any number of rings while the loop is
/// busy leave one wake-up waiting, so the loop runs again once and finds all the work. ``close()`` ends the loop
/// after that last wake-up (a graceful shutdown lets it finish what is pending).
struct Doorbell: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    func ring() {
        continuation.yield()
    }

    func close() {
        continuation.finish()
    }

    /// One element per wake-up, until ``close()``; for one consumer only.
    var wakeUps: AsyncStream<Void> { stream }
}
