import Foundation
import KernelEvents
@testable import KernelPlugins
import KernelPostgres
import KernelStore
import KernelTestSupport
import Logging

/// The families the store tests write, declared as the example plugins declare them, and
/// builders for their events.
enum Fixtures {
    static let trade = FamilyDescriptor(
        name: "trade", versions: 1...1, payloadSchemaJSON: nil,
        columns: [
            column("venue", .text),
            column("symbol", .text),
            column("price", .numeric),
            column("size", .numeric),
            column("side", .text, allowed: ["buy", "sell", "unknown"]),
            column("trade_id", .text, nullable: true),
        ],
        maxRowsPerEvent: 1)

    static let book = FamilyDescriptor(
        name: "book", versions: 1...1, payloadSchemaJSON: nil,
        columns: [
            column("venue", .text),
            column("symbol", .text),
            column("kind", .text, allowed: ["snapshot", "delta"]),
            column("side", .text, allowed: ["bid", "ask"]),
            column("level", .int4),
            column("price", .numeric),
            column("size", .numeric),
            column("sequence", .int8, nullable: true),
        ],
        maxRowsPerEvent: 1000)

    static func column(_ name: String, _ type: ColumnType, nullable: Bool = false, allowed: [String]? = nil) -> ColumnDescriptor {
        ColumnDescriptor(name: name, type: type, nullable: nullable, allowedValues: allowed, description: nil)
    }

    /// The table spec matching a family (what the kernel derives from the plugin's declaration).
    static func spec(_ family: FamilyDescriptor) -> FamilyTableSpec {
        FamilyTableSpec(family: family.name, columns: family.columns.map { column in
            let type: PGColumnType = switch column.type {
            case .text: .text
            case .numeric: .numeric
            case .int8: .int8
            case .int4: .int4
            case .float8: .float8
            case .bool: .bool
            case .timestamptz: .timestamptz
            case .jsonb: .jsonb
            }
            return .init(name: column.name, pgType: type, nullable: column.nullable, allowedValues: column.allowedValues)
        })
    }

    static let logger = Logger(label: "kernel.store.tests")
    static let subject = randomUUID()
    static let producer = randomUUID()
    static let schema = randomUUID()

    static func randomUUID() -> EventUUID {
        EventUUID(high: .random(in: .min ... .max), low: .random(in: .min ... .max))
    }

    /// Now, in Unix microseconds, truncated to whole milliseconds plus a fixed µs tail so tests
    /// can see µs precision survive.
    static var nowMicros: Int64 { Int64(Date().timeIntervalSince1970 * 1000) * 1000 + 123 }

    /// A migrated fresh database with md_trade and md_book, and a writer on its connection.
    static func withStore<T>(_ body: (_ writer: EventWriter, _ connection: PGConnection, _ dsn: String) throws -> T) throws -> T {
        try TestDatabase.withMigrated { connection, dsn in
            _ = try FamilyTables.ensure(spec(trade), on: connection)
            _ = try FamilyTables.ensure(spec(book), on: connection)
            try connection.execute("SET TIME ZONE 'UTC'")
            return try body(EventWriter(connection: connection, logger: logger), connection, dsn)
        }
    }

    static func tradeEvent(id: EventUUID = randomUUID(), ts: Int64 = nowMicros,
                           tsEvent: Int64? = nil, symbol: String = "AAPL", price: String = "187.2500",
                           size: String = "100", side: String = "buy", tradeID: String? = nil,
                           tags: [Tag] = [], redelivery: Bool = false) -> StoredEvent {
        StoredEvent(
            eventID: id, tsMicros: ts, tsEventMicros: tsEvent, subjectID: subject,
            producerID: producer, schemaID: schema, family: trade, payloadJSON: [],
            rows: [[.text("XNAS"), .text(symbol), .numeric(price), .numeric(size), .text(side),
                    tradeID.map { .text($0) } ?? .null]],
            tags: tags, mayBeRedelivery: redelivery)
    }

    static func bookEvent(id: EventUUID = randomUUID(), ts: Int64 = nowMicros, levels: Int = 20,
                          level: (Int) -> Int64 = { Int64($0 + 1) }, tags: [Tag] = [], redelivery: Bool = false) -> StoredEvent {
        let rows: [[ColumnValue]] = (0..<levels).map { index in
            [.text("XNAS"), .text("AAPL"), .text("snapshot"), .text(index % 2 == 0 ? "bid" : "ask"),
             .int64(level(index)), .numeric("187.\(index)"), .numeric("\(index * 10)"),
             index == 0 ? .null : .int64(Int64(index) * 1_000_000_000_000)]
        }
        return StoredEvent(
            eventID: id, tsMicros: ts, tsEventMicros: ts - 5, subjectID: subject,
            producerID: producer, schemaID: schema, family: book, payloadJSON: [], rows: rows,
            tags: tags, mayBeRedelivery: redelivery)
    }

    static func genericEvent(id: EventUUID = randomUUID(), ts: Int64 = nowMicros,
                             payload: String = #"{"a": 1, "b": [true, null, "x"], "c": {"d": 1.50}}"#,
                             tags: [Tag] = [], redelivery: Bool = false) -> StoredEvent {
        StoredEvent(
            eventID: id, tsMicros: ts, tsEventMicros: nil, subjectID: subject,
            producerID: producer, schemaID: schema, family: nil, payloadJSON: Array(payload.utf8), rows: [],
            tags: tags, mayBeRedelivery: redelivery)
    }
}

extension PGConnection {
    /// `SELECT count(*)` of a table (name is ours, not user input).
    func count(_ table: String, where condition: String = "true") throws -> Int {
        Int(try query("SELECT count(*) FROM \(table) WHERE \(condition)").scalar ?? "-1") ?? -1
    }
}

extension WriteReport {
    var total: Int { inserted + duplicates + rejected.count + conflicts.count }
}
