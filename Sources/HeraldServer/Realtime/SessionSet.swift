/// The sockets of one user (or location) on one event loop, by session id. Most users have one socket, and a
/// dictionary of one costs a heap allocation of about 100 bytes per user; one socket is held as itself.
///
/// Generic over the session so that its rules are tested without sockets.
enum SessionSet<Session: Identifiable>: Sequence where Session.ID == UInt64 {
    case one(Session)
    case many([UInt64: Session])

    static var empty: SessionSet { .many([:]) }

    var isEmpty: Bool {
        if case .many(let sessions) = self { return sessions.isEmpty }
        return false
    }

    /// One of the sessions, whichever; `nil` if there are none.
    var first: Session? {
        switch self {
        case .one(let only): only
        case .many(let sessions): sessions.values.first
        }
    }

    var count: Int {
        switch self {
        case .one: 1
        case .many(let sessions): sessions.count
        }
    }

    /// Adds `session`, or replaces the one with its id.
    mutating func insert(_ session: Session) {
        switch self {
        case .one(let only) where only.id == session.id:
            self = .one(session)
        case .one(let only):
            self = .many([only.id: only, session.id: session])
        case .many(let sessions) where sessions.isEmpty:
            self = .one(session)
        case .many(var sessions):
            self = .empty  // drops the reference, so the dictionary is changed in place
            sessions[session.id] = session
            self = .many(sessions)
        }
    }

    /// Removes the session with `id`, if it is here.
    mutating func remove(_ id: UInt64) {
        switch self {
        case .one(let only):
            if only.id == id { self = .empty }
        case .many(var sessions):
            self = .empty
            sessions.removeValue(forKey: id)
            self = sessions.count == 1 ? .one(sessions.values.first!) : .many(sessions)
        }
    }

    func makeIterator() -> Iterator {
        switch self {
        case .one(let only): Iterator(only: only, rest: nil)
        case .many(let sessions): Iterator(only: nil, rest: sessions.values.makeIterator())
        }
    }

    /// No allocation per pass: delivery iterates a set for every notification.
    struct Iterator: IteratorProtocol {
        fileprivate var only: Session?
        fileprivate var rest: Dictionary<UInt64, Session>.Values.Iterator?

        mutating func next() -> Session? {
            if let only {
                self.only = nil
                return only
            }
            return rest?.next()
        }
    }
}
