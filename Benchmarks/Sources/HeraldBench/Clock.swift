import Foundation

/// Wall-clock microseconds: comparable between the coordinator and its worker processes on one machine.
enum Clock {
    static func micros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1000
    }
}
