import Foundation
import KernelTestSupport
import Testing
@testable import KernelEvents

@Suite("RFC3339")
struct RFC3339Tests {
    /// Unix seconds checked with Python's datetime; the Int64 ends by definition.
    static let knownInstants: [(String, Int64)] = [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.000000001Z", 1),
        ("1969-12-31T23:59:59.999999999Z", -1),
        ("2024-07-15T14:30:01Z", 1_721_053_801 * 1_000_000_000),
        ("2024-07-15T14:30:01.123456789Z", 1_721_053_801 * 1_000_000_000 + 123_456_789),
        ("2024-02-29T00:00:00Z", 1_709_164_800 * 1_000_000_000),
        ("2000-03-01T00:00:00Z", 951_868_800 * 1_000_000_000),
        ("2026-03-01T15:30:00+05:30", 1_772_359_200 * 1_000_000_000),
        ("2262-04-11T23:47:16.854775807Z", Int64.max),
        ("1677-09-21T00:12:43.145224192Z", Int64.min),
        ("2262-04-12T00:47:16.854775807+01:00", Int64.max),
    ]

    @Test("known instants", arguments: knownInstants)
    func known(text: String, expected: Int64) {
        #expect(RFC3339.parseNanos(text) == expected)
    }

    @Test("calendar validation: leap years and month lengths")
    func calendar() {
        for ok in ["2024-02-29T00:00:00Z", "2000-02-29T00:00:00Z", "2026-01-31T00:00:00Z", "2026-04-30T00:00:00Z",
                   "2026-12-31T23:59:59Z", "2026-02-28T23:59:59.999999999Z", "1996-02-29T12:00:00Z"] {
            #expect(RFC3339.parseNanos(ok) != nil, "\(ok)")
        }
        for bad in ["2026-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
                    "2026-06-31T00:00:00Z", "2026-09-31T00:00:00Z", "2026-11-31T00:00:00Z", "2026-01-32T00:00:00Z",
                    "2026-00-10T00:00:00Z", "2026-13-10T00:00:00Z", "2026-01-00T00:00:00Z",
                    "2026-01-01T24:00:00Z", "2026-01-01T23:60:00Z", "2026-01-01T23:59:60Z",
                    "2016-12-31T23:59:60Z", "2026-01-01T23:59:61Z", "2026-01-01T99:00:00Z"] {
            #expect(RFC3339.parseNanos(bad) == nil, "\(bad)")
        }
    }

    @Test("fractions of 1 to 9 digits scale to nanoseconds; 10 digits are refused")
    func fractions() {
        let base = Int64(1_721_053_801) * 1_000_000_000
        var digits = ""
        var expected: Int64 = 0
        var scale: Int64 = 100_000_000
        for d in 1...9 {
            digits += String(d)
            expected += Int64(d) * scale
            scale /= 10
            #expect(RFC3339.parseNanos("2024-07-15T14:30:01.\(digits)Z") == base + expected, "\(digits)")
        }
        #expect(RFC3339.parseNanos("2024-07-15T14:30:01.000000000Z") == base)
        #expect(RFC3339.parseNanos("2024-07-15T14:30:01.1234567890Z") == nil)
        #expect(RFC3339.parseNanos("2024-07-15T14:30:01.0000000000Z") == nil)
        #expect(RFC3339.parseNanos("2024-07-15T14:30:01.Z") == nil)
        #expect(RFC3339.parseNanos("2024-07-15T14:30:01.5") == nil)
        #expect(RFC3339.parseNanos("2024-07-15T14:30:01,5Z") == nil)
    }

    @Test("years 0001-9999 in the grammar; year 0000 refused; beyond Int64 nanoseconds is nil")
    func years() {
        #expect(RFC3339.parseNanos("0000-01-01T00:00:00Z") == nil)
        // Syntactically fine but outside what Int64 nanoseconds can hold.
        #expect(RFC3339.parseNanos("0001-01-01T00:00:00Z") == nil)
        #expect(RFC3339.parseNanos("9999-12-31T23:59:59.999999999Z") == nil)
        #expect(RFC3339.parseNanos("2262-04-11T23:47:16.854775808Z") == nil)
        #expect(RFC3339.parseNanos("1677-09-21T00:12:43.145224191Z") == nil)
        #expect(RFC3339.parseNanos("10000-01-01T00:00:00Z") == nil)
        #expect(RFC3339.parseNanos("-2024-01-01T00:00:00Z") == nil)
    }

    @Test("zone designators: Z, z, t, offsets; everything else refused")
    func zones() {
        let utc = RFC3339.parseNanos("2024-07-15T14:30:01Z")
        #expect(utc != nil)
        for same in ["2024-07-15t14:30:01z", "2024-07-15T14:30:01+00:00", "2024-07-15T14:30:01-00:00",
                     "2024-07-15T16:30:01+02:00", "2024-07-15T09:00:01-05:30", "2024-07-16T14:29:01+23:59",
                     "2024-07-14T14:31:01-23:59"] {
            #expect(RFC3339.parseNanos(same) == utc, "\(same)")
        }
        for bad in ["2024-07-15T14:30:01", "2024-07-15 14:30:01Z", "2024-07-15T14:30:01+0000",
                    "2024-07-15T14:30:01+00", "2024-07-15T14:30:01+24:00", "2024-07-15T14:30:01+00:60",
                    "2024-07-15T14:30:01UTC", "2024-07-15T14:30:01ZZ", "2024-07-15T14:30:01Z ",
                    " 2024-07-15T14:30:01Z", "2024-07-15T14:30Z", "2024-7-15T14:30:01Z", "2024-07-15X14:30:01Z",
                    "2024/07/15T14:30:01Z", "2024-07-15T14-30-01Z", "2024-07-15T14:30:01+05:30:00",
                    "2024-07-15T14:30:01z+01:00", "", "Z", "1721053801", "2024-07-15", "２024-07-15T14:30:01Z",
                    "2024-07-15T14:30:01+0a:00", "2024-07-15T1a:30:01Z"] {
            #expect(RFC3339.parseNanos(bad) == nil, "\(bad)")
        }
    }

    @Test("format: fixed width UTC with nine fraction digits")
    func format() {
        #expect(RFC3339.format(nanos: 0) == "1970-01-01T00:00:00.000000000Z")
        #expect(RFC3339.format(nanos: -1) == "1969-12-31T23:59:59.999999999Z")
        #expect(RFC3339.format(nanos: 1_721_053_801_123_456_789) == "2024-07-15T14:30:01.123456789Z")
        #expect(RFC3339.format(nanos: Int64.max) == "2262-04-11T23:47:16.854775807Z")
        #expect(RFC3339.format(nanos: Int64.min) == "1677-09-21T00:12:43.145224192Z")
        #expect(RFC3339.formatCompact(nanos: 1_721_053_801_000_000_000) == "2024-07-15T14:30:01Z")
        #expect(RFC3339.formatCompact(nanos: 1_721_053_801_500_000_000) == "2024-07-15T14:30:01.5Z")
        #expect(RFC3339.formatCompact(nanos: -1) == "1969-12-31T23:59:59.999999999Z")
    }

    @Test("format and parse round-trip and agree with Foundation's UTC calendar")
    func roundTrip() throws {
        var rng = SplitMix64(seed: 3339)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
        for _ in 0..<5_000 {
            let n = Int64.random(in: Int64.min...Int64.max, using: &rng)
            let text = RFC3339.format(nanos: n)
            #expect(RFC3339.parseNanos(text) == n, "\(n) → \(text)")
            let seconds = n >= 0 ? n / 1_000_000_000 : (n + 1) / 1_000_000_000 - 1
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            let expected = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!,
                                  c.hour!, c.minute!, c.second!)
            #expect(text.hasPrefix(expected), "\(n): \(text) vs \(expected)")
        }
    }

    @Test("every day number maps to a date and back (1677-2262)")
    func civilDays() {
        var previous = CivilDate(dayNumber: -106_752)
        for day in -106_751...106_751 {
            let date = CivilDate(dayNumber: day)
            #expect(date.dayNumber == day)
            // Consecutive and calendar-valid.
            if date.day == 1 {
                #expect(previous.day == CivilDate.daysInMonth(year: previous.year, month: previous.month))
            } else {
                #expect(date.day == previous.day + 1 && date.month == previous.month)
            }
            previous = date
        }
    }
}
