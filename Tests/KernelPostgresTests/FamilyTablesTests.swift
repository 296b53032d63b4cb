import Foundation
import KernelTestSupport
import Testing
import KernelPostgres

@Suite("Family tables (live Postgres)", .serialized)
struct FamilyTablesTests {
    typealias Column = FamilyTableSpec.ColumnSpec

    static let trade = FamilyTableSpec(family: "trade", columns: [
        Column(name: "price", pgType: .numeric, description: "trade price"),
        Column(name: "size", pgType: .numeric),
        Column(name: "side", pgType: .text, nullable: true, allowedValues: ["buy", "sell", "it's"], description: "aggressor side"),
    ])

    @Test("ensure twice: created, then unchanged; partitions and the record exist")
    func ensureTwice() throws {
        try TestDatabase.withMigrated { connection, _ in
            #expect(try FamilyTables.ensure(Self.trade, on: connection) == .created)
            #expect(try FamilyTables.ensure(Self.trade, on: connection) == .unchanged)
            let recorded = try connection.query("SELECT table_name, jsonb_array_length(columns) FROM family_tables WHERE family = 'trade'")
            #expect(recorded.rows == [["md_trade", "3"]])
            let month = try connection.query("SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY_MM')").scalar!
            #expect(try connection.query("SELECT to_regclass($1) IS NOT NULL", ["md_trade_" + month]).scalar == "t")
            #expect(try connection.query("SELECT to_regclass($1) IS NOT NULL", ["events_" + month]).scalar == "t")
            let comment = try connection.query("SELECT col_description(attrelid, attnum) FROM pg_attribute WHERE attrelid = 'md_trade'::regclass AND attname = 'price'").scalar
            #expect(comment == "trade price")
            // A row for now() lands in a partition; a redelivery is a no-op.
            let insert = """
                INSERT INTO md_trade (event_id, ts, subject_id, producer_id, schema_id, price, size, side)
                VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', $1::timestamptz, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1.5, 2, 'it''s')
                ON CONFLICT DO NOTHING
                """
            let now = try connection.query("SELECT now()::text").scalar!
            #expect(try connection.query(insert, [now]).affectedRows == 1)
            #expect(try connection.query(insert, [now]).affectedRows == 0)
            // Events too.
            _ = try connection.query("""
                INSERT INTO events (event_id, ts, subject_id, producer_id, schema_id, payload)
                VALUES (gen_random_uuid(), now(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), '{}')
                """)
            let view = try connection.query("SELECT source_table, count(*) FROM events_all GROUP BY 1 ORDER BY 1")
            #expect(view.rows == [["events", "1"], ["md_trade", "1"]])
        }
    }

    @Test("binary COPY into a family table")
    func copyIntoFamily() throws {
        try TestDatabase.withMigrated { connection, _ in
            _ = try FamilyTables.ensure(Self.trade, on: connection)
            let nowMicros = Int64(Date().timeIntervalSince1970 * 1_000_000)
            try connection.copyIn("COPY md_trade (event_id, row_no, ts, subject_id, producer_id, schema_id, price, size, side) FROM STDIN (FORMAT binary)") { writer in
                var encoder = PGBinaryCopyEncoder()
                for row in 0..<3 {
                    encoder.beginTuple(fieldCount: 9)
                    try encoder.appendUUID("11111111-2222-3333-4444-555555555555")
                    encoder.appendInt4(Int32(row))
                    encoder.appendTimestamptz(unixMicros: nowMicros)
                    try encoder.appendUUID("21111111-2222-3333-4444-555555555555")
                    try encoder.appendUUID("31111111-2222-3333-4444-555555555555")
                    try encoder.appendUUID("41111111-2222-3333-4444-555555555555")
                    try encoder.appendNumeric("187.2300")
                    try encoder.appendNumeric("1e-7")
                    if row == 2 { encoder.appendNull() } else { encoder.appendText("buy") }
                }
                encoder.finish()
                try writer.write(&encoder)
            }
            #expect(try connection.query("SELECT count(*), min(price)::text, min(size)::text FROM md_trade").rows == [["3", "187.2300", "0.0000001"]])
            // events_all shows row_no 0 only: one row per event.
            #expect(try connection.query("SELECT count(*) FROM events_all").scalar == "1")
        }
    }

    @Test("a new nullable column is added; the next call is unchanged")
    func compatibleAdd() throws {
        try TestDatabase.withMigrated { connection, _ in
            _ = try FamilyTables.ensure(Self.trade, on: connection)
            var wider = Self.trade
            wider.columns.append(Column(name: "venue", pgType: .text, nullable: true, description: "exchange"))
            wider.columns[2].allowedValues = ["buy", "sell", "it's", "unknown"]
            wider.columns[0].nullable = true
            let change = try FamilyTables.ensure(wider, on: connection)
            guard case .altered(let added, let other) = change else {
                Issue.record("expected altered, got \(change)")
                return
            }
            #expect(added == ["venue"])
            #expect(other.contains("price: drop not null"))
            #expect(other.contains("side: allowed values widened"))
            let columns = try connection.query("SELECT attname, attnotnull::text FROM pg_attribute WHERE attrelid = 'md_trade'::regclass AND attname IN ('venue', 'price') ORDER BY 1")
            #expect(columns.rows == [["price", "false"], ["venue", "false"]])
            #expect(try FamilyTables.ensure(wider, on: connection) == .unchanged)
            // The widened CHECK accepts the new value.
            _ = try connection.query("""
                INSERT INTO md_trade (event_id, ts, subject_id, producer_id, schema_id, size, side, venue)
                VALUES (gen_random_uuid(), now(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 'unknown', 'X')
                """)
        }
    }

    @Test("incompatible changes are refused naming family and column; the table stays")
    func incompatible() throws {
        try TestDatabase.withMigrated { connection, _ in
            _ = try FamilyTables.ensure(Self.trade, on: connection)
            var typeChange = Self.trade
            typeChange.columns[0].pgType = .float8
            var dropped = Self.trade
            dropped.columns.removeLast()
            var notNull = Self.trade
            notNull.columns[2].nullable = false
            var newNotNull = Self.trade
            newNotNull.columns.append(Column(name: "venue", pgType: .text))
            var narrowed = Self.trade
            narrowed.columns[2].allowedValues = ["buy"]
            var restricted = Self.trade
            restricted.columns[1].allowedValues = ["1"]
            let cases: [(FamilyTableSpec, String)] = [
                (typeChange, "price"), (dropped, "side"), (notNull, "side"), (newNotNull, "venue"),
                (narrowed, "side"), (restricted, "size"),
            ]
            for (spec, column) in cases {
                do throws(FamilyTableError) {
                    _ = try FamilyTables.ensure(spec, on: connection)
                    Issue.record("expected refusal for \(column)")
                } catch {
                    guard case .incompatibleChange(let family, let named, _) = error else {
                        Issue.record("wrong error \(error)")
                        continue
                    }
                    #expect(family == "trade")
                    #expect(named == column)
                    #expect(error.description.contains("trade") && error.description.contains(column))
                }
            }
            let price = try connection.query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'md_trade'::regclass AND attname = 'price'")
            #expect(price.scalar == "numeric")
            #expect(try connection.query("SELECT count(*) FROM pg_attribute WHERE attrelid = 'md_trade'::regclass AND attname = 'venue'").scalar == "0")
            #expect(try FamilyTables.ensure(Self.trade, on: connection) == .unchanged)
        }
    }

    @Test("the CHECK constraint rejects a value outside the allowed set")
    func checkConstraint() throws {
        try TestDatabase.withMigrated { connection, _ in
            _ = try FamilyTables.ensure(Self.trade, on: connection)
            let error = #expect(throws: PGError.self, "expected a check violation") {
                try connection.query("""
                    INSERT INTO md_trade (event_id, ts, subject_id, producer_id, schema_id, price, size, side)
                    VALUES (gen_random_uuid(), now(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 1, 1, $1)
                    """, ["hold"])
            }
            #expect(error?.kind == .data)
            #expect(error?.reasonCode == "pg_check_violation")
        }
    }

    @Test("hostile names and declarations are refused before any SQL runs")
    func hostileSpecs() throws {
        try TestDatabase.withMigrated { connection, _ in
            let bad: [FamilyTableSpec] = [
                FamilyTableSpec(family: "", columns: []),
                FamilyTableSpec(family: "Trade", columns: []),
                FamilyTableSpec(family: "trade; DROP TABLE events", columns: []),
                FamilyTableSpec(family: "tr\"ade", columns: []),
                FamilyTableSpec(family: "1trade", columns: []),
                FamilyTableSpec(family: "trädé", columns: []),
                FamilyTableSpec(family: String(repeating: "a", count: 41), columns: []),
                FamilyTableSpec(family: "t", columns: [Column(name: "event_id", pgType: .text)]),
                FamilyTableSpec(family: "t", columns: [Column(name: "x", pgType: .text), Column(name: "x", pgType: .int4)]),
                FamilyTableSpec(family: "t", columns: [Column(name: "a b", pgType: .text)]),
                FamilyTableSpec(family: "t", columns: [Column(name: "x", pgType: .text, allowedValues: [])]),
                FamilyTableSpec(family: "t", columns: [Column(name: "x", pgType: .text, allowedValues: ["a\u{0}b"])]),
                FamilyTableSpec(family: "t", columns: [Column(name: "x", pgType: .jsonb, allowedValues: ["{}"])]),
                FamilyTableSpec(family: "t", columns: [Column(name: String(repeating: "c", count: 56), pgType: .text)]),
            ]
            for spec in bad {
                #expect(throws: FamilyTableError.self, "\(spec.family)") { _ = try FamilyTables.ensure(spec, on: connection) }
            }
            #expect(try connection.query("SELECT count(*) FROM family_tables").scalar == "0")
            #expect(try connection.query("SELECT to_regclass('events') IS NOT NULL").scalar == "t")
            // Quotes and backslashes in values and comments are literals, not SQL.
            let odd = FamilyTableSpec(family: "odd", columns: [
                Column(name: "select", pgType: .text, nullable: true, allowedValues: ["a'); DROP TABLE events; --", "b\\"],
                       description: "it's a \"comment\"'; DROP TABLE events; --"),
                Column(name: "n", pgType: .int4, nullable: true, allowedValues: ["1", "2"]),
            ])
            #expect(try FamilyTables.ensure(odd, on: connection) == .created)
            _ = try connection.query("""
                INSERT INTO md_odd (event_id, ts, subject_id, producer_id, schema_id, "select", n)
                VALUES (gen_random_uuid(), now(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), $1, 2)
                """, ["a'); DROP TABLE events; --"])
            #expect(try connection.query("SELECT to_regclass('events') IS NOT NULL").scalar == "t")
            #expect(try FamilyTables.ensure(odd, on: connection) == .unchanged)
        }
    }

    @Test("events_all unions every family table")
    func eventsAllView() throws {
        try TestDatabase.withMigrated { connection, _ in
            try FamilyTables.refreshEventsAllView(on: connection)
            #expect(try connection.query("SELECT count(*) FROM events_all").scalar == "0")
            _ = try FamilyTables.ensure(Self.trade, on: connection)
            _ = try FamilyTables.ensure(FamilyTableSpec(family: "bar", columns: [Column(name: "close", pgType: .float8)]), on: connection)
            // Three months ahead: one new partition each for events, md_trade and md_bar.
            #expect(try FamilyTables.ensureAllMonthPartitions(monthsAhead: 3, on: connection) == 3)
            #expect(try FamilyTables.ensureAllMonthPartitions(monthsAhead: 3, on: connection) == 0)
            let definition = try connection.query("SELECT pg_get_viewdef('events_all'::regclass)").scalar ?? ""
            #expect(definition.contains("md_trade") && definition.contains("md_bar") && definition.contains("events"))
            // The tag links view follows: one row per tag of every stored event.
            let links = try connection.query("SELECT pg_get_viewdef('event_tag_links'::regclass)").scalar ?? ""
            #expect(links.contains("unnest") && links.contains("events_all"))
        }
    }
}
