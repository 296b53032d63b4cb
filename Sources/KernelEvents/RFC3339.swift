/// RFC 3339 timestamps ⇄ Unix nanoseconds (UTC), without Foundation.
///
/// Accepted grammar (RFC 3339 §5.6, `date-time`), strictly:
/// `YYYY-MM-DD(T|t)HH:MM:SS[.F{1,9}](Z|z|(+|-)HH:MM)`.
/// - Years 0001–9999; month 1–12; day within the month (leap years per the Gregorian rule);
///   hour 0–23, minute 0–59, second 0–59. Offsets `±hh:mm` with hh 0–23, mm 0–59; `-00:00` is UTC.
/// - A leap second (`:60`) is refused: Go's `time.Parse` (what producers use) refuses it, producers
///   never emit it (RFC3339Nano from a UTC clock), and silently moving it to the next second would
///   store an instant the producer never wrote.
/// - Fractions of 1–9 digits; a tenth digit is refused rather than rounded (nanoseconds are the
///   unit, more precision would be lost silently). No space instead of `T`, no missing seconds,
///   no `±hhmm`, no numeric timestamps.
/// - The instant must fit Int64 nanoseconds (1677-09-21 … 2262-04-11), else nil.
public enum RFC3339 {
    /// Unix nanoseconds of an RFC 3339 timestamp in UTF-8 `bytes`, or nil if it is not one.
    public static func parseNanos(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        let n = bytes.count
        // "YYYY-MM-DDTHH:MM:SS" + at least "Z".
        guard n >= 20 else { return nil }
        guard let year = digits(bytes, 0, 4), bytes[4] == UInt8(ascii: "-"),
              let month = digits(bytes, 5, 2), bytes[7] == UInt8(ascii: "-"),
              let day = digits(bytes, 8, 2), bytes[10] | 0x20 == UInt8(ascii: "t"),
              let hour = digits(bytes, 11, 2), bytes[13] == UInt8(ascii: ":"),
              let minute = digits(bytes, 14, 2), bytes[16] == UInt8(ascii: ":"),
              let second = digits(bytes, 17, 2)
        else { return nil }
        guard year >= 1, (1...12).contains(month),
              day >= 1, day <= CivilDate.daysInMonth(year: year, month: month),
              hour < 24, minute < 60, second < 60
        else { return nil }

        var i = 19
        var fraction: Int64 = 0
        if bytes[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < n, bytes[i] &- UInt8(ascii: "0") < 10 {
                guard i - start < 9 else { return nil }
                fraction = fraction * 10 + Int64(bytes[i] &- UInt8(ascii: "0"))
                i += 1
            }
            let count = i - start
            guard count >= 1 else { return nil }
            for _ in count..<9 { fraction *= 10 }
        }

        guard i < n else { return nil }
        var offsetSeconds = 0
        switch bytes[i] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            i += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard n - i == 6, let oh = digits(bytes, i + 1, 2), bytes[i + 3] == UInt8(ascii: ":"),
                  let om = digits(bytes, i + 4, 2), oh < 24, om < 60
            else { return nil }
            offsetSeconds = (oh * 60 + om) * 60
            if bytes[i] == UInt8(ascii: "-") { offsetSeconds = -offsetSeconds }
            i += 6
        default:
            return nil
        }
        guard i == n else { return nil }

        let days = CivilDate(year: year, month: month, day: day).dayNumber
        // Local time minus its offset is UTC. Years ≤ 9999 keep this far inside Int64 seconds.
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return CivilDate.combine(seconds: seconds, fraction: fraction)
    }

    /// `parseNanos` over the UTF-8 of `text`.
    public static func parseNanos(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parseNanos(UnsafeRawBufferPointer($0)) }
    }

    /// `YYYY-MM-DDTHH:MM:SS.fffffffffZ` (UTC, always nine fraction digits), e.g.
    /// `2024-07-15T14:30:01.123456789Z`. Every Int64 is representable (years 1677–2262).
    public static func format(nanos: Int64) -> String {
        format(nanos: nanos, fractionDigits: 9)
    }

    /// `format(nanos:)` with the fraction trimmed of trailing zeros (and dropped when zero), for
    /// human text such as DLQ details: `2026-09-01T00:00:00Z`, `2026-09-01T00:00:00.5Z`.
    static func formatCompact(nanos: Int64) -> String {
        var f = nanos % CivilDate.nanosPerSecond
        if f < 0 { f += CivilDate.nanosPerSecond }
        var digits = 9
        while digits > 0 && f % 10 == 0 {
            f /= 10
            digits -= 1
        }
        return format(nanos: nanos, fractionDigits: digits)
    }

    private static func format(nanos: Int64, fractionDigits: Int) -> String {
        let (date, nanosOfDay) = CivilDate.split(nanos: nanos)
        let secondsOfDay = Int(nanosOfDay / CivilDate.nanosPerSecond)
        var fraction = Int(nanosOfDay % CivilDate.nanosPerSecond)
        for _ in fractionDigits..<9 { fraction /= 10 }
        let length = 20 + (fractionDigits > 0 ? fractionDigits + 1 : 0)
        return String(unsafeUninitializedCapacity: length) { out in
            var j = 0
            func put(_ value: Int, _ width: Int) {
                var v = value
                for k in stride(from: width - 1, through: 0, by: -1) {
                    out[j + k] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10)
                    v /= 10
                }
                j += width
            }
            func put(_ c: Unicode.Scalar) {
                out[j] = UInt8(ascii: c)
                j += 1
            }
            put(date.year, 4); put("-"); put(date.month, 2); put("-"); put(date.day, 2); put("T")
            put(secondsOfDay / 3600, 2); put(":"); put(secondsOfDay / 60 % 60, 2); put(":")
            put(secondsOfDay % 60, 2)
            if fractionDigits > 0 {
                put(".")
                put(fraction, fractionDigits)
            }
            put("Z")
            return j
        }
    }

    /// The decimal value of `count` ASCII digits at `bytes[at...]`, nil if any is not a digit.
    @inline(__always)
    private static func digits(_ bytes: UnsafeRawBufferPointer, _ at: Int, _ count: Int) -> Int? {
        var v = 0
        for k in at..<(at + count) {
            let d = bytes[k] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            v = v * 10 + Int(d)
        }
        return v
    }
}
