import KernelEvents
import KernelPostgres

/// Binary COPY tuples for one table, appended event after event into one contiguous buffer.
///
/// Unlike `PGBinaryCopyEncoder` it writes no header (the stream header and trailer are added when
/// a COPY is sent, so any subset of events can be sent on its own) and it can be rolled back to a
/// mark when one event's values turn out not to be encodable.
struct TupleBuffer {
    /// What was written is `storage[..<count]`; the rest is zeroed room. Fixed-width values are
    /// stored into that room, one uniqueness check each, instead of appended byte by byte (each
    /// `append` called the runtime's uniqueness check: ~3 % of a trade drain's kernel CPU).
    private var storage: [UInt8] = []
    private(set) var count = 0

    /// The encoded tuples.
    var bytes: ArraySlice<UInt8> { storage[..<count] }

    /// The binary COPY stream header: signature, flags 0, header extension length 0.
    static let streamHeader: [UInt8] = [
        0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
    ]
    /// The binary COPY stream trailer (field count −1).
    static let streamTrailer: [UInt8] = [0xFF, 0xFF]

    init(reserving capacity: Int = 0) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// Drops everything written after `mark` (a previous `count`).
    mutating func truncate(to mark: Int) {
        precondition(mark >= 0 && mark <= count, "truncate(to:) past the end")
        count = mark
    }

    /// Makes room for `extra` more bytes (doubling, so appends stay amortized O(1)); the room
    /// past `count` may hold bytes of a truncated tuple, which every write overwrites.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        guard count + extra > storage.count else { return }
        storage.append(contentsOf: repeatElement(0, count: max(count + extra, storage.count * 2, 256) - storage.count))
    }

    @inline(__always)
    private mutating func store<T: FixedWidthInteger>(bigEndian value: T) {
        let size = MemoryLayout<T>.size
        reserve(size)
        let at = count
        storage.withUnsafeMutableBytes { $0.storeBytes(of: value.bigEndian, toByteOffset: at, as: T.self) }
        count += size
    }

    /// Appends raw bytes.
    private mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard raw.count > 0 else { return }
        reserve(raw.count)
        let at = count
        storage.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[at..<(at + raw.count)]).copyMemory(from: raw) }
        count += raw.count
    }

    private mutating func append(_ byte: UInt8) {
        reserve(1)
        storage[count] = byte
        count += 1
    }

    private mutating func append(contentsOf text: String) {
        var text = text
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    mutating func beginTuple(fieldCount: Int) { int16(Int16(fieldCount)) }

    mutating func null() { int32(-1) }

    mutating func uuid(_ id: EventUUID) {
        int32(16)
        int64(Int64(bitPattern: id.high))
        int64(Int64(bitPattern: id.low))
    }

    mutating func text(_ value: String) {
        int32(Int32(truncatingIfNeeded: value.utf8.count))
        append(contentsOf: value)
    }

    mutating func int4(_ value: Int32) {
        int32(4)
        int32(value)
    }

    mutating func int8(_ value: Int64) {
        int32(8)
        int64(value)
    }

    /// A `bigint[]` in Postgres' binary array format (one dimension, no NULLs, lower bound 1);
    /// NULL when empty (an event without tags).
    mutating func int8Array(_ values: ArraySlice<Int64>) {
        guard !values.isEmpty else { return null() }
        int32(Int32(20 + 12 * values.count))
        int32(1)        // dimensions
        int32(0)        // no NULL elements
        int32(20)       // element type: int8
        int32(Int32(values.count))
        int32(1)        // lower bound
        for value in values {
            int32(8)
            int64(value)
        }
    }

    mutating func float8(_ value: Double) {
        int32(8)
        int64(Int64(bitPattern: value.bitPattern))
    }

    mutating func bool(_ value: Bool) {
        int32(1)
        append(value ? 1 : 0)
    }

    mutating func timestamptz(unixMicros: Int64) {
        int32(8)
        int64(unixMicros &- PGBinaryCopyEncoder.postgresEpochOffsetMicros)
    }

    mutating func jsonb(_ json: String) {
        int32(Int32(truncatingIfNeeded: json.utf8.count + 1))
        append(0x01)
        append(contentsOf: json)
    }

    mutating func bytea(_ value: some Collection<UInt8>) {
        int32(Int32(truncatingIfNeeded: value.count))
        if value.withContiguousStorageIfAvailable({ append(UnsafeRawBufferPointer($0)) }) == nil {
            Array(value).withUnsafeBytes { append($0) }
        }
    }

    mutating func jsonb(bytes json: [UInt8]) {
        int32(Int32(truncatingIfNeeded: json.count + 1))
        append(0x01)
        json.withUnsafeBytes { append($0) }
    }

    /// `numeric` from decimal text. Plain decimals (`-12.3400`, `.5`, `7.`) are encoded here
    /// without allocating; anything else (exponents, NaN, odd input) goes through
    /// `PGBinaryCopyEncoder.appendNumeric`, which also produces the error for invalid text.
    /// Both give the same bytes for the same value (pinned by tests).
    mutating func numeric(_ decimal: String) throws(PGError) {
        var text = decimal
        let done = text.withUTF8 { appendPlainDecimal($0) }
        if !done { try numericSlowPath(decimal) }
    }

    private mutating func numericSlowPath(_ decimal: String) throws(PGError) {
        var encoder = PGBinaryCopyEncoder(reserving: 64)
        _ = encoder.takeBytes()  // drop the stream header
        try encoder.appendNumeric(decimal)
        encoder.takeBytes().withUnsafeBytes { append($0) }
    }

    /// Encodes `-?digits[.digits]` as numeric_send would; returns false (writing nothing) for
    /// any other shape.
    private mutating func appendPlainDecimal(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = utf8.count
        var negative = false
        if i < n, utf8[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        let intStart = i
        while i < n, utf8[i] &- 0x30 < 10 { i += 1 }
        let intCount = i - intStart
        var fracStart = i
        var fracCount = 0
        if i < n, utf8[i] == UInt8(ascii: ".") {
            i += 1
            fracStart = i
            while i < n, utf8[i] &- 0x30 < 10 { i += 1 }
            fracCount = i - fracStart
        }
        guard i == n, intCount + fracCount > 0, fracCount <= 0x3FFF, intCount < 100_000 else { return false }

        // The digits as one virtual sequence: the integer part, then the fraction.
        @inline(__always) func digit(_ k: Int) -> Int16 {
            Int16(k < intCount ? utf8[intStart + k] &- 0x30 : utf8[fracStart + k - intCount] &- 0x30)
        }
        var first = 0
        var end = intCount + fracCount
        while first < end, digit(first) == 0 { first += 1 }
        while end > first, digit(end - 1) == 0 { end -= 1 }
        if first == end {
            // Zero (also "-0.00"): no digits, positive, the display scale kept.
            int32(8)
            int16(0); int16(0); int16(0); int16(Int16(fracCount))
            return true
        }
        // Point position inside digits[first..<end]; groups of four are aligned on the point.
        let point = intCount - first
        let leftPad = ((4 - point % 4) % 4 + 4) % 4
        let weight = (point + leftPad) / 4 - 1
        let groupCount = (leftPad + (end - first) + 3) / 4
        int32(Int32(8 + 2 * groupCount))
        int16(Int16(groupCount))
        int16(Int16(weight))
        int16(negative ? 0x4000 : 0)
        int16(Int16(fracCount))
        var position = first - leftPad
        for _ in 0..<groupCount {
            var group: Int16 = 0
            for _ in 0..<4 {
                group = group * 10 + (position >= first && position < end ? digit(position) : 0)
                position += 1
            }
            int16(group)
        }
        return true
    }

    // MARK: - big-endian integers

    private mutating func int16(_ value: Int16) { store(bigEndian: value) }

    private mutating func int32(_ value: Int32) { store(bigEndian: value) }

    private mutating func int64(_ value: Int64) { store(bigEndian: value) }
}
