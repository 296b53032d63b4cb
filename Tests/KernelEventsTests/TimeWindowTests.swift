import Testing
@testable import KernelEvents

@Suite("TimeWindow")
struct TimeWindowTests {
    @Test("both bounds are inclusive")
    func edges() {
        let now = nanos("2026-09-15T12:00:00Z")
        let lower = nanos("2026-08-15T12:00:00Z")
        let upper = nanos("2026-09-15T13:00:00Z")
        #expect(TimeWindow.bounds(nowNanos: now) == lower...upper)
        #expect(TimeWindow.contains(tsNanos: lower, nowNanos: now))
        #expect(!TimeWindow.contains(tsNanos: lower - 1, nowNanos: now))
        #expect(TimeWindow.contains(tsNanos: upper, nowNanos: now))
        #expect(!TimeWindow.contains(tsNanos: upper + 1, nowNanos: now))
        #expect(TimeWindow.contains(tsNanos: now, nowNanos: now))
    }

    @Test("one calendar month earlier, clamped to the month's last day, same time of day", arguments: [
        ("2026-03-31T10:20:30.5Z", "2026-02-28T10:20:30.5Z"),
        ("2024-03-31T00:00:00Z", "2024-02-29T00:00:00Z"),
        ("2024-03-29T00:00:00Z", "2024-02-29T00:00:00Z"),
        ("2026-03-28T23:59:59.999999999Z", "2026-02-28T23:59:59.999999999Z"),
        ("2026-05-31T08:00:00Z", "2026-04-30T08:00:00Z"),
        ("2026-01-15T00:00:00Z", "2025-12-15T00:00:00Z"),
        ("2026-01-31T00:00:00Z", "2025-12-31T00:00:00Z"),
        ("2026-12-31T00:00:00Z", "2026-11-30T00:00:00Z"),
        ("1970-01-01T00:00:00Z", "1969-12-01T00:00:00Z"),
    ])
    func monthClamping(now: String, lower: String) {
        #expect(TimeWindow.bounds(nowNanos: nanos(now)).lowerBound == nanos(lower))
        #expect(TimeWindow.contains(tsNanos: nanos(lower), nowNanos: nanos(now)))
        #expect(!TimeWindow.contains(tsNanos: nanos(lower) - 1, nowNanos: nanos(now)))
    }

    @Test("the ends of the Int64 range clamp instead of trapping")
    func extremes() {
        #expect(TimeWindow.bounds(nowNanos: Int64.max).upperBound == Int64.max)
        #expect(TimeWindow.bounds(nowNanos: Int64.min).lowerBound == Int64.min)
        #expect(TimeWindow.contains(tsNanos: Int64.min, nowNanos: Int64.min))
        #expect(TimeWindow.contains(tsNanos: Int64.max, nowNanos: Int64.max))
    }

    @Test("describe says which bound was crossed, in DLQ-friendly text")
    func describe() {
        let now = nanos("2026-10-15T12:00:00Z")
        #expect(TimeWindow.describe(tsNanos: now, nowNanos: now) == nil)
        #expect(TimeWindow.describe(tsNanos: nanos("2026-09-01T00:00:00Z"), nowNanos: now)
                == "ts 2026-09-01T00:00:00Z is older than now − 1 month (2026-09-15T12:00:00Z)")
        #expect(TimeWindow.describe(tsNanos: nanos("2026-10-15T13:00:00.25Z"), nowNanos: now)
                == "ts 2026-10-15T13:00:00.25Z is more than 1 hour ahead of now (2026-10-15T12:00:00Z)")
    }
}
