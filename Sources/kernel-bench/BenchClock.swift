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
    /// Foundation's formatter (a million of these must not dominate the preload).
    static func rfc3339(unixMicros: Int64) -> String {
        let seconds = unixMicros >= 0 ? unixMicros / 1_000_000 : (unixMicros - 999_999) / 1_000_000
        let micros = Int(unixMicros - seconds * 1_000_000)
        var days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secOfDay = Int(seconds - Int64(days) * 86_400)
        // Howard Hinnant's civil_from_days.
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay / 60 % 60, 2)):"
            + "\(pad(secOfDay % 60, 2)).\(pad(micros, 6))Z"
    }
}
