/// Proleptic Gregorian calendar arithmetic on day numbers (days since 1970-01-01), after Howard
/// Hinnant's `days_from_civil` / `civil_from_days`: exact for every year we handle, no tables, no
/// Foundation, no time zones (everything here is UTC).
struct CivilDate: Equatable {
    var year: Int
    /// 1...12
    var month: Int
    /// 1...daysInMonth
    var day: Int

    static let nanosPerSecond: Int64 = 1_000_000_000
    static let nanosPerDay: Int64 = 86_400 * nanosPerSecond

    static func isLeapYear(_ y: Int) -> Bool { y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (negative before). Assumes a valid date.
    var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// The date of day number `days` (days since 1970-01-01).
    init(dayNumber days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        day = doy - (153 * mp + 2) / 5 + 1
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    /// Splits Unix nanoseconds into a UTC date and the nanoseconds into that day (0..<nanosPerDay).
    /// Floors, so instants before 1970 land on the right day.
    static func split(nanos: Int64) -> (date: CivilDate, nanosOfDay: Int64) {
        var days = nanos / nanosPerDay
        var rest = nanos % nanosPerDay
        if rest < 0 {
            days -= 1
            rest += nanosPerDay
        }
        return (CivilDate(dayNumber: Int(days)), rest)
    }

    /// Unix nanoseconds of `nanosOfDay` (0..<nanosPerDay) into this date; nil if outside Int64
    /// (before 1677-09-21T00:12:43.145224192Z or after 2262-04-11T23:47:16.854775807Z).
    func nanos(plus nanosOfDay: Int64) -> Int64? {
        let seconds = Int64(dayNumber) * 86_400 + nanosOfDay / CivilDate.nanosPerSecond
        return CivilDate.combine(seconds: seconds, fraction: nanosOfDay % CivilDate.nanosPerSecond)
    }

    /// `seconds * 1e9 + fraction` (fraction in 0..<1e9), nil on Int64 overflow. Exact at both ends:
    /// a negative second count borrows from the fraction so the last representable instants near
    /// `Int64.min` are not refused just because `seconds * 1e9` alone would overflow.
    static func combine(seconds: Int64, fraction: Int64) -> Int64? {
        var s = seconds, f = fraction
        if s < 0 && f > 0 {
            s += 1
            f -= nanosPerSecond
        }
        let (base, o1) = s.multipliedReportingOverflow(by: nanosPerSecond)
        let (sum, o2) = base.addingReportingOverflow(f)
        return o1 || o2 ? nil : sum
    }
}
