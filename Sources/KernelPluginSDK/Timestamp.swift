/// RFC 3339 timestamps to Unix nanoseconds, without Foundation.
public enum Timestamp {
    /// Parses a strict RFC 3339 date-time into nanoseconds since the Unix epoch.
    ///
    /// Accepted: `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+hh:mm|-hh:mm)`, upper-case `T` and `Z` only,
    /// a real calendar date (leap years included), hours 00–23, minutes and seconds 00–59.
    /// Rejected (nil): lower-case `t`/`z`, a space separator, a missing offset, a leap second
    /// (`:60`, which Unix time cannot represent), more than 9 fraction digits, an empty fraction,
    /// any surrounding whitespace, and instants outside what `Int64` nanoseconds can hold
    /// (1677-09-21…2262-04-11).
    public static func parseRFC3339(_ text: some StringProtocol) -> Int64? {
        var text = String(text)
        return text.withUTF8 { parseRFC3339(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// `parseRFC3339(_:)` over UTF-8 bytes.
    public static func parseRFC3339(bytes b: UnsafeRawBufferPointer) -> Int64? {
        // Shortest: "2026-01-01T00:00:00Z" (20); longest: 19 + "." + 9 digits + "+hh:mm" (35).
        guard b.count >= 20, b.count <= 35 else { return nil }

        func digits(_ at: Int, _ count: Int) -> Int? {
            var value = 0
            for i in at..<(at + count) {
                let d = Int(b[i]) - 48
                guard d >= 0, d <= 9 else { return nil }
                value = value * 10 + d
            }
            return value
        }
        func byte(_ at: Int, _ ascii: Unicode.Scalar) -> Bool { b[at] == UInt8(ascii: ascii) }

        guard let year = digits(0, 4), byte(4, "-"), let month = digits(5, 2), byte(7, "-"),
              let day = digits(8, 2), byte(10, "T"), let hour = digits(11, 2), byte(13, ":"),
              let minute = digits(14, 2), byte(16, ":"), let second = digits(17, 2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month),
              hour <= 23, minute <= 59, second <= 59
        else { return nil }

        var i = 19
        var fraction = 0
        if byte(i, ".") {
            i += 1
            var count = 0
            while i < b.count, b[i] >= 48, b[i] <= 57 {
                count += 1
                guard count <= 9 else { return nil }
                fraction = fraction * 10 + Int(b[i] - 48)
                i += 1
            }
            guard count >= 1 else { return nil }
            for _ in count..<9 { fraction *= 10 }
        }

        guard i < b.count else { return nil }
        var offsetSeconds = 0
        if byte(i, "Z") {
            i += 1
        } else if byte(i, "+") || byte(i, "-") {
            guard b.count - i == 6, let oh = digits(i + 1, 2), byte(i + 3, ":"), let om = digits(i + 4, 2),
                  oh <= 23, om <= 59
            else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (byte(i, "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }

        // Small magnitudes (|days| < 4 million): no overflow before the final multiply.
        let days = daysFromCivil(year: year, month: month, day: day)
        var seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        var nanos = Int64(fraction)
        // Before 1970 the fraction pulls toward zero: fold it into the seconds first, or the
        // earliest representable instants (down to Int64.min) would overflow the multiply.
        if seconds < 0, nanos > 0 {
            seconds += 1
            nanos -= 1_000_000_000
        }
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return nil }
        let (total, overflow2) = scaled.addingReportingOverflow(nanos)
        guard !overflow2 else { return nil }
        return total
    }

    /// Formats Unix nanoseconds as RFC 3339 UTC with 9 fraction digits, e.g.
    /// `"2026-11-25T14:30:00.123456789Z"`: the inverse of `parseRFC3339` for tests and messages.
    public static func formatRFC3339(unixNanos: Int64) -> String {
        var seconds = unixNanos / 1_000_000_000
        var nanos = unixNanos % 1_000_000_000
        if nanos < 0 { nanos += 1_000_000_000; seconds -= 1 }
        var days = seconds / 86_400
        var secOfDay = seconds % 86_400
        if secOfDay < 0 { secOfDay += 86_400; days -= 1 }
        let (y, m, d) = civilFromDays(Int(days))
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let s = Int(secOfDay)
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(s / 3600, 2)):\(pad(s / 60 % 60, 2)):\(pad(s % 60, 2))"
            + ".\(pad(Int(nanos), 9))Z"
    }

    static func isLeapYear(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of `daysFromCivil`.
    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
