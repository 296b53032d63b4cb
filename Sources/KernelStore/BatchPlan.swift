import KernelEvents
import KernelSchema
import KernelPostgres

#if canImport(Glibc)
import Glibc
#endif

/// One batch, encoded: every storable event's COPY tuples sit in its table's buffer, so any
/// subset of events (the whole batch, or a half while isolating a bad event) can be streamed
/// without encoding again.
struct BatchPlan {
    /// One event that will be written.
    struct Planned {
        /// Index in the input batch.
        var input: Int
        /// Index into `targets`.
        var target: Int
        /// Its tuples in `targets[target].buffer`.
        var rows: Range<Int>
        /// Its identity tuple (event_id, digest) in `identityBuffer`.
        var identity: Range<Int> = 0..<0
    }

    struct Target {
        var layout: TableLayout
        var buffer: TupleBuffer
        /// The family's column types (empty for the generic table), read once per batch.
        var types: [ColumnType] = []
    }

    var targets: [Target] = []
    /// `event_ids` tuples, one per planned event.
    var identityBuffer = TupleBuffer()
    var planned: [Planned] = []
    /// Input indices of later in-batch copies of an event id whose content differs from the
    /// copy kept: whether each is a duplicate or a conflict depends on what is stored first (the
    /// kept copy may itself be a conflict with an earlier write), so they are written in a second
    /// pass once this one has committed.
    var deferredTwins: [Int] = []
    /// Input index → reason, for events refused before reaching Postgres.
    var rejected: [(input: Int, reason: String)] = []
    /// Input indices among `rejected` whose producer is over its tag budget (`tag_budget_exceeded`).
    var overBudget: Set<Int> = []
    /// (second copy, kept copy) input indices of in-batch duplicates.
    var twins: [(copy: Int, kept: Int)] = []
    /// True when any event in the batch may have been delivered before.
    var mayHaveRedeliveries = false

    /// The (table, month) pairs this plan writes to.
    func partitionKeys(_ batch: [StoredEvent]) -> Set<PartitionKeeper.Key> {
        var keys: Set<PartitionKeeper.Key> = []
        var last: (day: Int64, month: UTCMonth)?
        for event in planned {
            let ts = batch[event.input].tsMicros
            // Batches are mostly one day: skip the calendar math for a day already seen.
            var day = ts / 86_400_000_000
            if ts % 86_400_000_000 < 0 { day -= 1 }
            let month: UTCMonth
            if let last, last.day == day {
                month = last.month
            } else {
                month = UTCMonth(unixMicros: ts)
                last = (day, month)
            }
            keys.insert(.init(table: targets[event.target].layout.table, month: month))
        }
        return keys
    }

    /// Drops events whose month's partition could not be created.
    mutating func reject(month: UTCMonth, table: String, reason: String, batch: [StoredEvent]) {
        planned.removeAll { event in
            let hit = UTCMonth(unixMicros: batch[event.input].tsMicros) == month
                && targets[event.target].layout.table == table
            if hit { rejected.append((event.input, reason)) }
            return hit
        }
    }

    // MARK: - encoding

    /// Appends the tuples of the event at `pointer` (an element of the batch being planned) to
    /// `buffer`, with the family's column types read once per batch (not a column descriptor,
    /// three retains, per value); on a value that cannot be encoded, leaves the buffer as it was
    /// and returns the reason. Through a pointer: an element of the batch's buffer handed over as
    /// a value was copied whole first (a retain and a release per reference field, per event),
    /// inlined or not, for the compiler cannot prove nothing writes that memory meanwhile.
    static func encodeTyped(_ pointer: UnsafePointer<StoredEvent>, family: FamilyDescriptor, types: [ColumnType],
                            tagIDs: ArraySlice<Int64>, into buffer: inout TupleBuffer, fieldCount: Int) -> String? {
        let mark = buffer.count
        let event = UnsafeStoredEvent(pointer)
        let receivedAt = event.receivedAtMicros != 0 ? event.receivedAtMicros : currentUnixMicros()
        for (rowNo, row) in event.rows.enumerated() {
            guard row.count == types.count else {
                buffer.truncate(to: mark)
                return "row \(rowNo) has \(row.count) values but family \(family.name) declares \(types.count) columns"
            }
            buffer.beginTuple(fieldCount: fieldCount)
            buffer.uuid(event.eventID)
            buffer.int4(Int32(truncatingIfNeeded: rowNo))
            buffer.timestamptz(unixMicros: event.tsMicros)
            if let tsEvent = event.tsEventMicros { buffer.timestamptz(unixMicros: tsEvent) } else { buffer.null() }
            buffer.uuid(event.subjectID)
            buffer.uuid(event.producerID)
            buffer.uuid(event.schemaID)
            buffer.timestamptz(unixMicros: receivedAt)
            buffer.int8Array(tagIDs)
            for index in 0..<types.count {
                if let problem = encode(row[index], as: types[index], into: &buffer) {
                    buffer.truncate(to: mark)
                    return "row \(rowNo): column \(family.columns[index].name): \(problem)"
                }
            }
        }
        return nil
    }

    /// Through a pointer for the reason `encodeTyped`'s is.
    static func encodeGeneric(_ pointer: UnsafePointer<StoredEvent>, tagIDs: ArraySlice<Int64> = [], into buffer: inout TupleBuffer) {
        let event = UnsafeStoredEvent(pointer)
        buffer.beginTuple(fieldCount: TableLayout.genericColumns.count)
        buffer.uuid(event.eventID)
        buffer.timestamptz(unixMicros: event.tsMicros)
        if let tsEvent = event.tsEventMicros { buffer.timestamptz(unixMicros: tsEvent) } else { buffer.null() }
        buffer.uuid(event.subjectID)
        buffer.uuid(event.producerID)
        buffer.uuid(event.schemaID)
        buffer.timestamptz(unixMicros: event.receivedAtMicros != 0 ? event.receivedAtMicros : currentUnixMicros())
        buffer.int8Array(tagIDs)
        buffer.jsonb(bytes: event.payloadJSON)
    }

    static func encodeIdentity(eventID: EventUUID, digest: EventDigest, into buffer: inout TupleBuffer) {
        buffer.beginTuple(fieldCount: 2)
        buffer.uuid(eventID)
        buffer.bytea(digest.bytes)
    }

    /// The clock, for events whose receive time is not known.
    static func currentUnixMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000
    }

    /// One value in the column's binary format. NULLs go to Postgres as they are (it owns NOT
    /// NULL); a value of the wrong kind for the column, which the plugin host already refuses,
    /// is refused here too rather than sent as bytes of another type.
    static func encode(_ value: ColumnValue, as column: ColumnDescriptor, into buffer: inout TupleBuffer) -> String? {
        encode(value, as: column.type, into: &buffer)
    }

    static func encode(_ value: ColumnValue, as type: ColumnType, into buffer: inout TupleBuffer) -> String? {
        switch (value, type) {
        case (.null, _):
            buffer.null()
        case (.text(let text), .text):
            buffer.text(text)
        case (.numeric(let decimal), .numeric):
            do throws(PGError) {
                try buffer.numeric(decimal)
            } catch {
                return error.message
            }
        case (.int64(let integer), .numeric):
            do throws(PGError) {
                try buffer.numeric(String(integer))
            } catch {
                return error.message
            }
        case (.int64(let integer), .int8):
            buffer.int8(integer)
        case (.int64(let integer), .int4):
            guard let small = Int32(exactly: integer) else { return "\(integer) is out of range for type integer" }
            buffer.int4(small)
        case (.float64(let real), .float8):
            buffer.float8(real)
        case (.bool(let flag), .bool):
            buffer.bool(flag)
        case (.timestampNanos(let nanos), .timestamptz):
            // Floor to microseconds, as Postgres keeps them.
            var micros = nanos / 1000
            if nanos % 1000 < 0 { micros -= 1 }
            buffer.timestamptz(unixMicros: micros)
        case (.jsonb(let json), .jsonb):
            buffer.jsonb(json)
        default:
            return "a \(kindName(value)) value does not fit a \(type.sqlName) column"
        }
        return nil
    }

    private static func kindName(_ value: ColumnValue) -> String {
        switch value {
        case .null: "null"
        case .text: "text"
        case .numeric: "numeric"
        case .int64: "integer"
        case .float64: "float"
        case .bool: "boolean"
        case .timestampNanos: "timestamp"
        case .jsonb: "jsonb"
        }
    }
}

/// Field reads of a stored event through a pointer, each a load of that field only.
struct UnsafeStoredEvent {
    let pointer: UnsafePointer<StoredEvent>
    init(_ pointer: UnsafePointer<StoredEvent>) { self.pointer = pointer }
    var eventID: EventUUID { pointer.pointee.eventID }
    var tsMicros: Int64 { pointer.pointee.tsMicros }
    var tsEventMicros: Int64? { pointer.pointee.tsEventMicros }
    var subjectID: EventUUID { pointer.pointee.subjectID }
    var producerID: EventUUID { pointer.pointee.producerID }
    var schemaID: EventUUID { pointer.pointee.schemaID }
    var receivedAtMicros: Int64 { pointer.pointee.receivedAtMicros }
    var rows: [[ColumnValue]] { pointer.pointee.rows }
    var payloadJSON: [UInt8] { pointer.pointee.payloadJSON }
}
