#if canImport(Glibc)
import Glibc
#endif

// The clocks and the sleep every stage uses; one definition each.

/// `CLOCK_MONOTONIC` in nanoseconds: for durations and deadlines.
public func monotonicNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// `CLOCK_MONOTONIC` in seconds.
public func monotonicSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Unix time (`CLOCK_REALTIME`) in nanoseconds: for timestamps others read.
public func unixNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Unix time in microseconds.
public func unixMicros() -> Int64 { unixNanos() / 1000 }

/// Sleeps `ms` milliseconds, resuming after signals.
public func sleepMs(_ ms: Int) {
    guard ms > 0 else { return }
    var request = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
