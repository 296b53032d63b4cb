/// Which monthly partitions are past retention: a pure function of the configured months, the
/// typed tables and the current month, so the rule is tested without a database or a clock.
///
/// A table keeps the current month and the `n` whole months before it; a partition of an older
/// month holds nothing younger than `n` months and may go. Where one table holds several
/// retentions' events it keeps the longest: `events` holds every family without a typed table
/// (which families those are is not known here, so every configured family counts), and
/// `event_tags` (the tag links before migration 0012) linked the events of every family. Nil
/// months means forever.
public struct PartitionRetention: Sendable, Equatable {
    public let defaultMonths: Int
    public let familyMonths: [String: Int]
    /// Typed table name → its family (`family_tables`).
    public let tableFamilies: [String: String]

    /// - Parameters: months as configured (0 = forever).
    public init(defaultMonths: Int, familyMonths: [String: Int], tableFamilies: [String: String]) {
        self.defaultMonths = defaultMonths
        self.familyMonths = familyMonths
        self.tableFamilies = tableFamilies
    }

    /// Whole months kept before the current one in `table`; nil keeps it forever.
    public func months(forTable table: String) -> Int? {
        let kept: [Int]
        switch table {
        case "events":
            kept = [defaultMonths] + familyMonths.values
        case "event_tags":
            kept = [defaultMonths] + familyMonths.values + tableFamilies.values.map { familyMonths[$0] ?? defaultMonths }
        default:
            kept = [tableFamilies[table].flatMap { familyMonths[$0] } ?? defaultMonths]
        }
        return kept.contains(0) ? nil : kept.max()
    }

    /// Whether the partition of `table` for `month` lies wholly before what is kept at `current`.
    public func isExpired(table: String, month: PartitionMonth, current: PartitionMonth) -> Bool {
        guard let kept = months(forTable: table) else { return false }
        return month.index < current.index - kept
    }
}

/// A calendar month (UTC) as a partition is named for it: `<table>_YYYY_MM`.
public struct PartitionMonth: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    /// 1...12
    public var month: Int

    public init(year: Int, month: Int) {
        self.year = year
        self.month = month
    }

    /// The month of the partition `name` of `table` (`md_trade_2026_03` of `md_trade`), or nil
    /// for a partition not named that way (one made by hand is never dropped).
    public init?(partition name: String, of table: String) {
        guard name.hasPrefix(table + "_") else { return nil }
        let suffix = name.dropFirst(table.count + 1).split(separator: "_", omittingEmptySubsequences: false)
        guard suffix.count == 2, suffix[0].count == 4, suffix[1].count == 2,
              let year = Int(suffix[0]), let month = Int(suffix[1]), (1...12).contains(month) else { return nil }
        self.init(year: year, month: month)
    }

    /// Months since year 0, for arithmetic.
    var index: Int { year * 12 + month - 1 }

    public var description: String { "\(year)-\(month < 10 ? "0" : "")\(month)" }

    public static func < (a: PartitionMonth, b: PartitionMonth) -> Bool { a.index < b.index }
}
