import Foundation

/// The process's open-file limit, and the caps kept below it: the HTTP server's on connections of any kind
/// (``ConnectionTracker``) and the socket cap (``HandshakeGuard``), each keeping a number of descriptors back.
enum OpenFileLimit {
    /// The soft limit, or `nil` when it is unlimited or cannot be read.
    static func soft() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 100_000_000 else { return nil }
        return Int(limit.rlim_cur)
    }

    /// The soft limit less `reserved` (at least 16), or a million when there is no limit to keep below.
    static func less(_ reserved: Int) -> Int {
        guard let limit = soft() else { return 1_000_000 }
        return max(16, limit - reserved)
    }
}
