#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KernelEvents
@testable import KernelPlugins
@testable import KernelSpill
import KernelStore

/// A fresh directory under /tmp for one test, removed (with its contents) by `remove()`.
final class TempDirectory {
    let path: String

    init(_ label: String = "spill") {
        var template = Array("/tmp/kernel-spill-test-\(label)-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(made != nil, "mkdtemp failed: errno \(errno)")
        path = String(cString: made!)
    }

    deinit { remove() }

    func remove() { Self.removeTree(path) }

    private static func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            if let names = try? SpillPOSIX.listDirectory(path) {
                for name in names { removeTree(path + "/" + name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

enum SpillFixtures {
    static let trade = FamilyDescriptor(
        name: "trade", versions: 1...3, payloadSchemaJSON: nil,
        columns: [
            column("venue", .text),
            column("price", .numeric),
            column("size", .float8),
            column("count", .int8),
            column("level", .int4),
            column("taker", .bool, nullable: true),
            column("exchange_ts", .timestamptz, nullable: true),
            column("extra", .jsonb, nullable: true),
            column("side", .text, allowed: ["buy", "sell", "unknown"]),
        ],
        maxRowsPerEvent: 1000)

    static func column(_ name: String, _ type: ColumnType, nullable: Bool = false, allowed: [String]? = nil) -> ColumnDescriptor {
        ColumnDescriptor(name: name, type: type, nullable: nullable, allowedValues: allowed, description: nil)
    }

    static func uuid(_ n: UInt64, _ salt: UInt64 = 0x0123_4567_89AB_CDEF) -> EventUUID {
        EventUUID(high: n &* 0x9E37_79B9_7F4A_7C15 ^ salt, low: n)
    }

    /// A generic event (payload JSON, no family) numbered `n`.
    static func generic(_ n: Int) -> StoredEvent {
        var event = StoredEvent(
            eventID: uuid(UInt64(n)), tsMicros: 1_764_000_000_000_000 + Int64(n),
            tsEventMicros: n % 2 == 0 ? 1_764_000_000_000_000 - Int64(n) : nil,
            subjectID: uuid(7), producerID: uuid(8), schemaID: uuid(9), family: nil,
            payloadJSON: Array("{\"n\":\(n),\"text\":\"héllo ✓\"}".utf8), rows: [],
            tags: [Tag(key: "venue", value: "XNAS"), Tag(key: "n", value: "\(n)")], mayBeRedelivery: false)
        event.sourcePayload = Array("{\"raw\":\(n)}".utf8)
        return event
    }

    /// A typed event with rows covering every `ColumnValue` case.
    static func typed(_ n: Int, rows: Int = 2) -> StoredEvent {
        var table: [[ColumnValue]] = []
        for r in 0..<rows {
            table.append([
                .text("venue-\(r) ü"), .numeric("\(n).\(r)5"), .float64(Double(n) * 0.25 - Double(r)),
                .int64(Int64.min + Int64(r)), .int64(Int64(r)), r % 2 == 0 ? .bool(true) : .bool(false),
                r % 3 == 0 ? .null : .timestampNanos(1_764_000_000_123_456_789 + Int64(r)),
                r % 2 == 0 ? .jsonb("{\"k\":[1,2,{\"z\":null}]}") : .null, .text("sell"),
            ])
        }
        var event = StoredEvent(
            eventID: uuid(UInt64(n), 0xFEED), tsMicros: 1_764_000_000_000_000 + Int64(n),
            tsEventMicros: 1_763_999_999_000_000, subjectID: uuid(17), producerID: uuid(18), schemaID: uuid(19),
            family: trade, payloadJSON: [], rows: table, tags: [Tag(key: "k", value: "v\(n)")], mayBeRedelivery: false)
        event.sourcePayload = Array("{\"price\":\"\(n)\"}".utf8)
        return event
    }

    static func event(_ n: Int) -> StoredEvent { n % 3 == 0 ? typed(n) : generic(n) }

    /// The origin of a fixture event, from its number (`eventID.low`): a generic event numbered
    /// `n` came from entry `1764000000000-n` with DLQ id `dlq-n`, a typed one from
    /// `1764000000001-n` (also its DLQ id).
    static func origin(of event: StoredEvent) -> EventOrigin {
        let n = event.eventID.low
        if event.family == nil { return EventOrigin(entryID: "1764000000000-\(n)", dlqID: "dlq-\(n)") }
        return EventOrigin(entryID: "1764000000001-\(n)", dlqID: "1764000000001-\(n)")
    }

    static func origins(of events: [StoredEvent]) -> [EventOrigin] { events.map(origin(of:)) }

    /// Field-by-field equality (StoredEvent is not Equatable); `mayBeRedelivery` is not compared.
    static func same(_ a: StoredEvent, _ b: StoredEvent) -> Bool {
        a.eventID == b.eventID && a.tsMicros == b.tsMicros
            && a.tsEventMicros == b.tsEventMicros && a.subjectID == b.subjectID && a.producerID == b.producerID
            && a.schemaID == b.schemaID && a.family == b.family && a.payloadJSON == b.payloadJSON
            && sameRows(a.rows, b.rows) && a.tags == b.tags && a.sourcePayload == b.sourcePayload
    }

    /// Row equality that compares doubles by bit pattern (NaN included).
    static func sameRows(_ a: [[ColumnValue]], _ b: [[ColumnValue]]) -> Bool {
        guard a.count == b.count else { return false }
        for (x, y) in zip(a, b) {
            guard x.count == y.count else { return false }
            for (u, v) in zip(x, y) {
                if case .float64(let p) = u, case .float64(let q) = v {
                    if p.bitPattern != q.bitPattern { return false }
                } else if u != v {
                    return false
                }
            }
        }
        return true
    }

    /// `event` encoded with `origin` (by default its fixture origin, `origin(of:)`).
    static func encoded(_ event: StoredEvent, origin: EventOrigin? = nil) -> [UInt8] {
        var out: [UInt8] = []
        SpillEventCodec.encode(event, origin: origin ?? Self.origin(of: event), into: &out)
        return out
    }

    /// Every item a reader yields for `path`.
    static func readAll(_ path: String) throws -> [SpillReadItem] {
        var reader = try SpillSegmentReader(path: path)
        var items: [SpillReadItem] = []
        while let item = try reader.next() { items.append(item) }
        return items
    }

    static func records(_ items: [SpillReadItem]) -> [(offset: Int64, payload: [UInt8])] {
        items.compactMap { if case let .record(offset, payload) = $0 { (offset, payload) } else { nil } }
    }

    static func damage(_ items: [SpillReadItem]) -> [SpillDamage] {
        items.compactMap { if case .damage(let d) = $0 { d } else { nil } }
    }

    static func readFile(_ path: String) -> [UInt8] {
        let fd = open(path, O_RDONLY)
        precondition(fd >= 0)
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        precondition(n == bytes.count)
        return bytes
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o640)
        precondition(fd >= 0)
        defer { close(fd) }
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        precondition(n == bytes.count)
    }

    /// Writes a segment with the given payloads; returns its path and each record's frame offset.
    /// Unsealed unless `sealed` (as a writer that died leaves it; a cut end is then a torn tail).
    static func writeSegment(in dir: String, sequence: UInt64 = 1, payloads: [[UInt8]],
                             sealed: Bool = false) throws -> (path: String, offsets: [Int64]) {
        let writer = try SpillSegmentWriter.create(directory: dir, sequence: sequence)
        var offsets: [Int64] = []
        for payload in payloads {
            offsets.append(writer.size)
            try writer.append(payload: payload)
        }
        if sealed { try writer.seal() } else { try writer.close() }
        return (writer.path, offsets)
    }
}

extension SpillAppender {
    /// Appends fixture events with their fixture origins (`SpillFixtures.origin(of:)`).
    func append(_ batch: [StoredEvent]) throws(SpillError) -> SpillAppendReport {
        try append(batch, origins: SpillFixtures.origins(of: batch))
    }
}
