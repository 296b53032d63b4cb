/// Independent reference parsers the targets compare the kernel's parsers against. They are
/// deliberately written differently (Character-level, checked arithmetic everywhere) from the
/// byte-level production code.
enum TextReferences {
    /// UUID text: 36 characters, hyphens at 8, 13, 18, 23, hex digits elsewhere.
    static func isUUID(_ text: String) -> Bool {
        let chars = Array(text.unicodeScalars)
        guard chars.count == 36, text.utf8.count == 36 else { return false }
        for (i, c) in chars.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard c == "-" else { return false }
            } else {
                guard c.properties.isASCIIHexDigit else { return false }
            }
        }
        return true
    }

    /// Unix nanoseconds of a strict RFC 3339 `date-time` (the grammar documented on
    /// `KernelEvents.RFC3339`), nil when invalid or outside Int64 nanoseconds.
    static func rfc3339Nanos(_ text: String) -> Int64? {
        let c = Array(text.utf8)
        func num(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= c.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard c[i] >= 0x30, c[i] <= 0x39 else { return nil }
                v = v * 10 + Int(c[i] - 0x30)
            }
            return v
        }
        func at(_ i: Int, _ ch: Character) -> Bool { i < c.count && Character(Unicode.Scalar(c[i])) == ch }
        guard c.count >= 20, let year = num(0, 4), at(4, "-"), let month = num(5, 2), at(7, "-"), let day = num(8, 2),
              at(10, "T") || at(10, "t"), let hour = num(11, 2), at(13, ":"), let minute = num(14, 2), at(16, ":"),
              let second = num(17, 2) else { return nil }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard year >= 1, month >= 1, month <= 12, day >= 1, day <= monthDays[month - 1], hour <= 23, minute <= 59,
              second <= 59 else { return nil }
        var i = 19
        var fraction = 0
        if at(i, ".") {
            i += 1
            var digits = 0
            while i < c.count, c[i] >= 0x30, c[i] <= 0x39 {
                guard digits < 9 else { return nil }
                fraction = fraction * 10 + Int(c[i] - 0x30)
                digits += 1
                i += 1
            }
            guard digits >= 1, digits <= 9 else { return nil }
            for _ in digits..<9 { fraction *= 10 }
        }
        var offset = 0
        if at(i, "Z") || at(i, "z") {
            i += 1
        } else if at(i, "+") || at(i, "-") {
            guard let oh = num(i + 1, 2), at(i + 3, ":"), let om = num(i + 4, 2), oh <= 23, om <= 59 else { return nil }
            offset = (oh * 60 + om) * 60 * (at(i, "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == c.count else { return nil }
        // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        var seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        // Before 1970 with a fraction, borrow a second first: Int64.min nanoseconds itself is
        // -9223372037 s + 0.145224192 s, and -9223372037 s alone does not fit.
        if seconds < 0 && fraction > 0 {
            seconds += 1
            fraction -= 1_000_000_000
        }
        let (scaled, o1) = Int64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, o2) = scaled.addingReportingOverflow(Int64(fraction))
        return o1 || o2 ? nil : total
    }
}
