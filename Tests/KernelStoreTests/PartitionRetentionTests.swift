import KernelStore
import Testing

/// The retention rule on its own: which months each table keeps, and where the boundary falls.
@Suite struct PartitionRetentionTests {
    let tables = ["md_book": "book", "md_trade": "trade", "md_bar": "bar"]

    @Test func eachTableKeepsItsFamilysMonthsAndSharedTablesTheLongest() {
        let policy = PartitionRetention(defaultMonths: 12, familyMonths: ["book": 3, "trade": 24], tableFamilies: tables)
        #expect(policy.months(forTable: "md_book") == 3)
        #expect(policy.months(forTable: "md_trade") == 24)
        #expect(policy.months(forTable: "md_bar") == 12, "no entry: the default")
        #expect(policy.months(forTable: "events") == 24, "generic events may belong to any configured family")
        #expect(policy.months(forTable: "event_tags") == 24, "tags link the events of every family")
    }

    @Test func zeroMeansForeverAndReachesTheSharedTables() {
        let oneForever = PartitionRetention(defaultMonths: 12, familyMonths: ["trade": 0], tableFamilies: tables)
        #expect(oneForever.months(forTable: "md_trade") == nil)
        #expect(oneForever.months(forTable: "md_book") == 12)
        #expect(oneForever.months(forTable: "events") == nil)
        #expect(oneForever.months(forTable: "event_tags") == nil)
        let defaults = PartitionRetention(defaultMonths: 0, familyMonths: [:], tableFamilies: tables)
        for table in ["events", "event_tags", "md_book"] { #expect(defaults.months(forTable: table) == nil) }
        #expect(!defaults.isExpired(table: "events", month: PartitionMonth(year: 1999, month: 1), current: PartitionMonth(year: 2026, month: 12)))
    }

    /// With 12 months in December 2026, November 2025 is the newest month dropped: December 2025
    /// still holds events younger than twelve months.
    @Test func theBoundaryNeverDropsAMonthInsideTheRetention() {
        let policy = PartitionRetention(defaultMonths: 12, familyMonths: ["book": 1], tableFamilies: tables)
        let now = PartitionMonth(year: 2026, month: 12)
        #expect(policy.isExpired(table: "events", month: PartitionMonth(year: 2025, month: 11), current: now))
        #expect(!policy.isExpired(table: "events", month: PartitionMonth(year: 2025, month: 12), current: now))
        #expect(!policy.isExpired(table: "events", month: now, current: now))
        #expect(!policy.isExpired(table: "events", month: PartitionMonth(year: 2027, month: 2), current: now))
        #expect(policy.isExpired(table: "md_book", month: PartitionMonth(year: 2026, month: 10), current: now))
        #expect(!policy.isExpired(table: "md_book", month: PartitionMonth(year: 2026, month: 11), current: now))
        // Across a year boundary: in January, one month kept means December stays.
        #expect(!policy.isExpired(table: "md_book", month: PartitionMonth(year: 2026, month: 12), current: PartitionMonth(year: 2027, month: 1)))
        #expect(policy.isExpired(table: "md_book", month: PartitionMonth(year: 2026, month: 11), current: PartitionMonth(year: 2027, month: 1)))
    }

    @Test func onlyPartitionsNamedByMonthHaveAMonth() {
        #expect(PartitionMonth(partition: "md_trade_2026_03", of: "md_trade") == PartitionMonth(year: 2026, month: 3))
        #expect(PartitionMonth(partition: "events_2026_13", of: "events") == nil)
        #expect(PartitionMonth(partition: "events_archive", of: "events") == nil)
        #expect(PartitionMonth(partition: "events_2026_1", of: "events") == nil)
        #expect(PartitionMonth(partition: "event_tags_2026_01", of: "events") == nil, "another table's partition")
        #expect(PartitionMonth(partition: "events_2026_01_old", of: "events") == nil)
    }
}
