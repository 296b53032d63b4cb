/// A calendar month in UTC, the unit of the storage tables' range partitions.
struct UTCMonth: Hashable, Comparable, CustomStringConvertible {
    var year: Int
    /// 1...12
    var month: Int

    /// The month containing `unixMicros` (floored, so instants before 1970 land correctly).
    init(unixMicros: Int64) {
        let microsPerDay: Int64 = 86_400_000_000
        var days = unixMicros / microsPerDay
        if unixMicros % microsPerDay < 0 { days -= 1 }
        // civil_from_days (Howard Hinnant), reduced to year and month.
        let z = Int(days) + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        month = mp < 10 ? mp + 3 : mp - 9
        year = yoe + era * 400 + (month <= 2 ? 1 : 0)
    }

    init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// `YYYY-MM-01`, the first day as a Postgres `date` literal.
    var firstDay: String {
        let y = String(year)
        let yearText = year >= 0 && year < 1000 ? String(repeating: "0", count: 4 - y.count) + y : y
        return yearText + (month < 10 ? "-0" : "-") + String(month) + "-01"
    }

    var description: String { String(firstDay.dropLast(3)) }

    static func < (a: UTCMonth, b: UTCMonth) -> Bool { (a.year, a.month) < (b.year, b.month) }
}
