#if canImport(Glibc)
import Glibc
#endif
import KernelRuntime

/// Clocks for the benchmarks. Monotonic time measures intervals; wall time is compared with
/// Postgres' `now()` (same machine, same clock) and with Redis entry ids.
enum BenchClock {
    /// Seconds on the monotonic clock.
    static func now() -> Double { monotonicSeconds() }

    /// Nanoseconds since the Unix epoch on the wall clock.
    static func wallNanos() -> Int64 { unixNanos() }

    /// Sleeps until the wall clock reads `nanos` (returns at once if that is past).
    static func sleep(untilWallNanos nanos: Int64) {
        var ts = timespec(tv_sec: Int(nanos / 1_000_000_000), tv_nsec: Int(nanos % 1_000_000_000))
        while clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }

    static func sleep(seconds: Double) {
        var ts = timespec(tv_sec: Int(seconds), tv_nsec: Int((seconds - Double(Int(seconds))) * 1e9))
        var rest = timespec()
        while nanosleep(&ts, &rest) != 0 && errno == EINTR { ts = rest }
    }

    /// RFC 3339 UTC text with microseconds, e.g. `2026-11-25T14:30:00.123456Z`, without
    /// Foundation's formatter (a million of these must not dominate the preload): the calendar
    /// is libc's `gmtime_r`.
    static func rfc3339(unixMicros: Int64) -> String {
        var seconds = time_t(unixMicros / 1_000_000)
        var micros = Int32(unixMicros % 1_000_000)
        if micros < 0 { micros += 1_000_000; seconds -= 1 }
        var t = tm()
        gmtime_r(&seconds, &t)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(t.tm_year + 1900, 4))-\(pad(t.tm_mon + 1, 2))-\(pad(t.tm_mday, 2))T\(pad(t.tm_hour, 2)):\(pad(t.tm_min, 2)):"
            + "\(pad(t.tm_sec, 2)).\(pad(micros, 6))Z"
    }
}
