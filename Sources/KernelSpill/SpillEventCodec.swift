import KernelEvents
import KernelSchema
import KernelStore

/// The binary encoding of one `StoredEvent` and its `EventOrigin` in a spill record (version 1,
/// little-endian). The origin's two strings sit where they always did (`entryID` after the
/// flags, `sourceDLQID` after `sourcePayload`), so segments of every version read the same.
///
/// The encoding carries the family descriptor (columns and their types), so replay needs no
/// plugin: a plugin unloaded or upgraded since the outage does not strand spilled rows.
/// Layout (docs/spill.md has the table):
/// `u8 version | u8 flags | str entryID | uuid eventID | i64 tsMicros | [i64 tsEventMicros] |
///  uuid subjectID | uuid producerID | uuid schemaID | [family] | bytes payloadJSON | rows | tags |
///  bytes sourcePayload | str sourceDLQID | [i64 receivedAtMicros]` where `str`/`bytes` are a u32
///  length then the bytes; `[…]` fields are present when their flag is set (receive time: flag
///  0x04, absent from records of earlier versions, which replay with the replay's time).
public enum SpillEventCodec {
    /// The encoding version written first in every record.
    public static let version: UInt8 = 1

    static let flagHasEventTime: UInt8 = 0x01
    static let flagHasFamily: UInt8 = 0x02
    static let flagHasReceivedAt: UInt8 = 0x04
    static let knownFlags: UInt8 = flagHasEventTime | flagHasFamily | flagHasReceivedAt

    /// Value tags of `ColumnValue` (stable: part of the on-disk format).
    enum ValueTag: UInt8 {
        case null = 0, text = 1, numeric = 2, int64 = 3, float64 = 4, bool = 5, timestampNanos = 6, jsonb = 7
    }

    /// Appends the encoding of `event` and its origin to `out`. `mayBeRedelivery` is not
    /// encoded: replay always deduplicates.
    public static func encode(_ event: StoredEvent, origin: EventOrigin, into out: inout [UInt8]) {
        var cache = FamilyCache()
        encode(event, origin: origin, into: &out, cache: &cache)
    }

    /// The last family encoded and its bytes: a batch's events usually share one family, whose
    /// descriptor is then encoded once and copied (equal arrays/strings compare by identity first).
    struct FamilyCache {
        var family: FamilyDescriptor?
        var bytes: [UInt8] = []
    }

    static func encode(_ event: StoredEvent, origin: EventOrigin, into out: inout [UInt8],
                       cache: inout FamilyCache) {
        out.append(version)
        var flags: UInt8 = 0
        if event.tsEventMicros != nil { flags |= flagHasEventTime }
        if event.family != nil { flags |= flagHasFamily }
        if event.receivedAtMicros != 0 { flags |= flagHasReceivedAt }
        out.append(flags)
        appendString(origin.entryID, to: &out)
        appendUUID(event.eventID, to: &out)
        out.appendLE(event.tsMicros)
        if let eventTime = event.tsEventMicros { out.appendLE(eventTime) }
        appendUUID(event.subjectID, to: &out)
        appendUUID(event.producerID, to: &out)
        appendUUID(event.schemaID, to: &out)
        if let family = event.family {
            if cache.family != family {
                cache.bytes.removeAll(keepingCapacity: true)
                SpillFamilyCodec.encode(family, into: &cache.bytes)
                cache.family = family
            }
            out.append(contentsOf: cache.bytes)
        }
        appendBytes(event.payloadJSON, to: &out)
        out.appendLE(UInt32(truncatingIfNeeded: event.rows.count))
        for row in event.rows {
            out.appendLE(UInt32(truncatingIfNeeded: row.count))
            for value in row { appendValue(value, to: &out) }
        }
        out.appendLE(UInt32(truncatingIfNeeded: event.tags.count))
        for tag in event.tags {
            appendString(tag.key, to: &out)
            appendString(tag.value, to: &out)
        }
        appendBytes(event.sourcePayload, to: &out)
        appendString(origin.dlqID, to: &out)
        if event.receivedAtMicros != 0 { out.appendLE(event.receivedAtMicros) }
    }

    /// Decodes one record payload. Untrusted input: every failure is a `.badRecord` error, never
    /// a trap. The event comes back with `mayBeRedelivery = true`.
    public static func decode(_ bytes: ArraySlice<UInt8>) throws(SpillFormatError) -> (event: StoredEvent, origin: EventOrigin) {
        var r = SpillByteReader(bytes)
        let found = try r.byte("version")
        guard found == version else { throw .badRecord("unsupported event encoding version \(found)") }
        let flags = try r.byte("flags")
        guard flags & ~knownFlags == 0 else { throw .badRecord("unknown event flags 0x\(String(flags, radix: 16))") }
        let entryID = try r.string("entry id")
        let eventID = try readUUID(&r, "event id")
        let ts = try r.integer(Int64.self, "ts")
        let eventTime = flags & flagHasEventTime != 0 ? try r.integer(Int64.self, "ts_event") : nil
        let subjectID = try readUUID(&r, "subject id")
        let producerID = try readUUID(&r, "producer id")
        let schemaID = try readUUID(&r, "schema id")
        let family = flags & flagHasFamily != 0 ? try SpillFamilyCodec.decode(&r) : nil
        let payload = Array(try r.lengthPrefixed("payload"))
        // A row is at least its u32 value count; a value at least its tag byte.
        let rowCount = try r.count("row count", minimumElementSize: 4)
        var rows: [[ColumnValue]] = []
        rows.reserveCapacity(rowCount)
        for _ in 0..<rowCount {
            let valueCount = try r.count("value count", minimumElementSize: 1)
            var row: [ColumnValue] = []
            row.reserveCapacity(valueCount)
            for _ in 0..<valueCount { row.append(try readValue(&r)) }
            rows.append(row)
        }
        let tagCount = try r.count("tag count", minimumElementSize: 8)
        var tags: [Tag] = []
        tags.reserveCapacity(tagCount)
        for _ in 0..<tagCount {
            let key = try r.string("tag key")
            let value = try r.string("tag value")
            tags.append(Tag(key: key, value: value))
        }
        let sourcePayload = Array(try r.lengthPrefixed("source payload"))
        let sourceDLQID = try r.string("source dlq id")
        let receivedAt = flags & flagHasReceivedAt != 0 ? try r.integer(Int64.self, "received at") : 0
        try r.expectEnd()
        var event = StoredEvent(eventID: eventID, tsMicros: ts, tsEventMicros: eventTime,
                                subjectID: subjectID, producerID: producerID, schemaID: schemaID, family: family,
                                payloadJSON: payload, rows: rows, tags: tags, mayBeRedelivery: true)
        event.sourcePayload = sourcePayload
        event.receivedAtMicros = receivedAt
        return (event, EventOrigin(entryID: entryID, dlqID: sourceDLQID))
    }

    // MARK: pieces

    static func appendString(_ text: String, to out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            out.appendLE(UInt32(truncatingIfNeeded: utf8.count))
            out.append(contentsOf: utf8)
        }
    }

    static func appendBytes(_ bytes: [UInt8], to out: inout [UInt8]) {
        out.appendLE(UInt32(truncatingIfNeeded: bytes.count))
        out.append(contentsOf: bytes)
    }

    static func appendUUID(_ id: EventUUID, to out: inout [UInt8]) {
        out.appendLE(id.high)
        out.appendLE(id.low)
    }

    static func readUUID(_ r: inout SpillByteReader, _ what: String) throws(SpillFormatError) -> EventUUID {
        let high = try r.integer(UInt64.self, what)
        let low = try r.integer(UInt64.self, what)
        return EventUUID(high: high, low: low)
    }

    static func appendValue(_ value: ColumnValue, to out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(ValueTag.null.rawValue)
        case .text(let s):
            out.append(ValueTag.text.rawValue)
            appendString(s, to: &out)
        case .numeric(let s):
            out.append(ValueTag.numeric.rawValue)
            appendString(s, to: &out)
        case .int64(let v):
            out.append(ValueTag.int64.rawValue)
            out.appendLE(v)
        case .float64(let v):
            out.append(ValueTag.float64.rawValue)
            out.appendLE(v.bitPattern)
        case .bool(let v):
            out.append(ValueTag.bool.rawValue)
            out.append(v ? 1 : 0)
        case .timestampNanos(let v):
            out.append(ValueTag.timestampNanos.rawValue)
            out.appendLE(v)
        case .jsonb(let s):
            out.append(ValueTag.jsonb.rawValue)
            appendString(s, to: &out)
        }
    }

    static func readValue(_ r: inout SpillByteReader) throws(SpillFormatError) -> ColumnValue {
        let raw = try r.byte("value tag")
        guard let tag = ValueTag(rawValue: raw) else { throw .badRecord("unknown column value tag \(raw)") }
        switch tag {
        case .null: return .null
        case .text: return .text(try r.string("text value"))
        case .numeric: return .numeric(try r.string("numeric value"))
        case .int64: return .int64(try r.integer(Int64.self, "int64 value"))
        case .float64: return .float64(Double(bitPattern: try r.integer(UInt64.self, "float64 value")))
        case .bool:
            let b = try r.byte("bool value")
            guard b <= 1 else { throw .badRecord("bool value byte \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case .timestampNanos: return .timestampNanos(try r.integer(Int64.self, "timestamp value"))
        case .jsonb: return .jsonb(try r.string("jsonb value"))
        }
    }
}
