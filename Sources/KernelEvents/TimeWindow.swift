/// The ingest time window (docs/protocol.md, "Event envelope"; checked in the kernel → DLQ `ts_out_of_range`):
/// `now − 1 calendar month ≤ ts ≤ now + 1 hour`, both ends inclusive, in UTC.
///
/// "One calendar month earlier" keeps the time of day and the day of month, clamped to the last day
/// of the earlier month (2026-03-31T10:00Z → 2026-02-28T10:00Z; 2024-03-31 → 2024-02-29), the way
/// Postgres evaluates `now() - interval '1 month'` in a UTC session.
public enum TimeWindow {
    /// One hour, the allowed clock skew into the future.
    public static let futureToleranceNanos: Int64 = 3_600 * 1_000_000_000

    /// True if `tsNanos` lies inside the window around `nowNanos` (Unix nanoseconds, UTC).
    public static func contains(tsNanos: Int64, nowNanos: Int64) -> Bool {
        bounds(nowNanos: nowNanos).contains(tsNanos)
    }

    /// The inclusive window around `nowNanos`. Ends that would fall outside Int64 are clamped to it.
    public static func bounds(nowNanos: Int64) -> ClosedRange<Int64> {
        let (upper, overflow) = nowNanos.addingReportingOverflow(futureToleranceNanos)
        return oneMonthBefore(nowNanos)...(overflow ? Int64.max : upper)
    }

    /// Why `tsNanos` is outside the window, for a DLQ `detail`; nil if it is inside. E.g.
    /// `ts 2026-09-01T00:00:00Z is older than now − 1 month (2026-09-15T12:00:00Z)`.
    public static func describe(tsNanos: Int64, nowNanos: Int64) -> String? {
        let window = bounds(nowNanos: nowNanos)
        let ts = RFC3339.formatCompact(nanos: tsNanos)
        if tsNanos < window.lowerBound {
            return "ts \(ts) is older than now − 1 month (\(RFC3339.formatCompact(nanos: window.lowerBound)))"
        }
        if tsNanos > window.upperBound {
            return "ts \(ts) is more than 1 hour ahead of now (\(RFC3339.formatCompact(nanos: nowNanos)))"
        }
        return nil
    }

    /// The same wall-clock time one calendar month earlier, day clamped to the month's end.
    static func oneMonthBefore(_ nanos: Int64) -> Int64 {
        let (date, nanosOfDay) = CivilDate.split(nanos: nanos)
        var year = date.year, month = date.month - 1
        if month == 0 {
            month = 12
            year -= 1
        }
        let day = min(date.day, CivilDate.daysInMonth(year: year, month: month))
        // Only the first month of the Int64 range has no predecessor inside it.
        return CivilDate(year: year, month: month, day: day).nanos(plus: nanosOfDay) ?? Int64.min
    }
}
