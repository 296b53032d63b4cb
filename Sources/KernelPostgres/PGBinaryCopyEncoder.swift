/// Encodes rows for `COPY … FROM STDIN (FORMAT binary)`.
///
/// Layout: an 11-byte signature, int32 flags, int32 extension length (the header, written once);
/// then per tuple an int16 field count followed by, per field, an int32 byte length (−1 = NULL)
/// and the value in the type's binary send format; then the int16 −1 trailer. Fields must be
/// appended in the column order of the COPY statement, with the types it names: binary COPY
/// does not convert, so a mismatch is a server error (`pg_bad_copy_format` or garbage values).
///
/// Use `takeBytes()` (or `CopyWriter.write(&encoder)`) to stream the buffer out as it grows.
public struct PGBinaryCopyEncoder: Sendable {
    private var bytes: [UInt8] = []
    private var finished = false

    /// Microseconds between the Unix epoch and Postgres' epoch (2000-01-01 00:00:00 UTC).
    public static let postgresEpochOffsetMicros: Int64 = 946_684_800_000_000

    /// Starts a stream: the header is written immediately.
    public init(reserving capacity: Int = 64 * 1024) {
        bytes.reserveCapacity(capacity)
        // "PGCOPY\n\377\r\n\0", flags 0, header extension length 0.
        bytes += [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00]
        appendInt32Raw(0)
        appendInt32Raw(0)
    }

    /// Number of bytes waiting to be taken.
    public var pendingByteCount: Int { bytes.count }

    /// Returns the pending bytes and empties the buffer (capacity kept).
    public mutating func takeBytes() -> [UInt8] {
        let out = bytes
        bytes.removeAll(keepingCapacity: true)
        return out
    }

    /// Starts a tuple of `fieldCount` fields.
    public mutating func beginTuple(fieldCount: Int) {
        precondition(!finished, "tuple after trailer")
        appendInt16Raw(Int16(fieldCount))
    }

    /// Writes the trailer; the stream is complete after the next `takeBytes()`.
    public mutating func finish() {
        guard !finished else { return }
        finished = true
        appendInt16Raw(-1)
    }

    /// SQL NULL, for any type.
    public mutating func appendNull() { appendInt32Raw(-1) }

    /// `uuid` from its 16 raw bytes.
    public mutating func appendUUID(bytes raw: some Collection<UInt8>) {
        precondition(raw.count == 16, "uuid needs 16 bytes")
        appendInt32Raw(16)
        bytes.append(contentsOf: raw)
    }

    /// `uuid` from its text form (hex digits with or without hyphens, any case, optional braces).
    public mutating func appendUUID(_ text: String) throws(PGError) {
        appendUUID(bytes: try PGBinaryCopyEncoder.parseUUID(text))
    }

    /// `text` (also `varchar`, `citext`): UTF-8 bytes. NUL bytes are refused by the server.
    public mutating func appendText(_ value: String) {
        appendInt32Raw(Int32(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }

    /// `int4`.
    public mutating func appendInt4(_ value: Int32) {
        appendInt32Raw(4)
        appendInt32Raw(value)
    }

    /// `int8`.
    public mutating func appendInt8(_ value: Int64) {
        appendInt32Raw(8)
        appendInt64Raw(value)
    }

    /// `float8`: IEEE-754 bits, big-endian (NaN and infinities pass through).
    /// A `bigint[]`: one dimension, no NULL elements, lower bound 1 (empty: NULL).
    public mutating func appendInt8Array(_ values: [Int64]) {
        guard !values.isEmpty else { return appendNull() }
        appendInt32Raw(Int32(20 + 12 * values.count))
        appendInt32Raw(1)
        appendInt32Raw(0)
        appendInt32Raw(20)
        appendInt32Raw(Int32(values.count))
        appendInt32Raw(1)
        for value in values { appendInt8(value) }
    }

    public mutating func appendFloat8(_ value: Double) {
        appendInt32Raw(8)
        appendInt64Raw(Int64(bitPattern: value.bitPattern))
    }

    /// `bool`.
    public mutating func appendBool(_ value: Bool) {
        appendInt32Raw(1)
        bytes.append(value ? 1 : 0)
    }

    /// `timestamptz` from microseconds since the Unix epoch (converted to Postgres' 2000 epoch).
    public mutating func appendTimestamptz(unixMicros: Int64) {
        appendTimestamptz(postgresMicros: unixMicros - PGBinaryCopyEncoder.postgresEpochOffsetMicros)
    }

    /// `timestamptz` as Postgres stores it: microseconds since 2000-01-01 00:00:00 UTC.
    public mutating func appendTimestamptz(postgresMicros: Int64) {
        appendInt32Raw(8)
        appendInt64Raw(postgresMicros)
    }

    /// `numeric` from a decimal string (`-12.50`, `1e-7`, `NaN`, `Infinity`); the value and its
    /// display scale are kept exactly as Postgres' own parser would keep them.
    public mutating func appendNumeric(_ decimal: String) throws(PGError) {
        let wire = try PGNumeric(parsing: decimal).wireBytes
        appendInt32Raw(Int32(wire.count))
        bytes.append(contentsOf: wire)
    }

    /// `jsonb`: version byte 1, then the JSON text (the server parses and validates it).
    public mutating func appendJSONB(_ json: String) {
        appendInt32Raw(Int32(json.utf8.count + 1))
        bytes.append(0x01)
        bytes.append(contentsOf: json.utf8)
    }

    /// `jsonb` from JSON bytes already in hand (no String round trip).
    public mutating func appendJSONB(bytes json: some Collection<UInt8>) {
        appendInt32Raw(Int32(json.count + 1))
        bytes.append(0x01)
        bytes.append(contentsOf: json)
    }

    /// `bytea`: the bytes as they are.
    public mutating func appendBytea(_ value: some Collection<UInt8>) {
        appendInt32Raw(Int32(value.count))
        bytes.append(contentsOf: value)
    }

    // MARK: - raw big-endian integers

    private mutating func appendInt16Raw(_ value: Int16) {
        let bits = UInt16(bitPattern: value)
        bytes.append(UInt8(bits >> 8))
        bytes.append(UInt8(bits & 0xFF))
    }

    private mutating func appendInt32Raw(_ value: Int32) {
        let bits = UInt32(bitPattern: value)
        bytes.append(UInt8(bits >> 24))
        bytes.append(UInt8((bits >> 16) & 0xFF))
        bytes.append(UInt8((bits >> 8) & 0xFF))
        bytes.append(UInt8(bits & 0xFF))
    }

    private mutating func appendInt64Raw(_ value: Int64) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8((bits >> UInt64(shift)) & 0xFF))
        }
    }

    /// Parses a UUID's 32 hex digits; hyphens anywhere and one pair of braces are tolerated, as
    /// Postgres' uuid_in does.
    static func parseUUID(_ text: String) throws(PGError) -> [UInt8] {
        var utf8 = Array(text.utf8)[...]
        if utf8.first == UInt8(ascii: "{") && utf8.last == UInt8(ascii: "}") {
            utf8 = utf8.dropFirst().dropLast()
        }
        var out: [UInt8] = []
        out.reserveCapacity(16)
        var high: UInt8?
        for byte in utf8 {
            if byte == UInt8(ascii: "-") { continue }
            let nibble: UInt8
            switch byte {
            case 0x30...0x39: nibble = byte - 0x30
            case 0x41...0x46: nibble = byte - 0x41 + 10
            case 0x61...0x66: nibble = byte - 0x61 + 10
            default:
                throw PGError(clientReason: "pg_bad_uuid", kind: .data, message: "invalid uuid '\(text.prefix(64))'")
            }
            if let h = high {
                guard out.count < 16 else {
                    throw PGError(clientReason: "pg_bad_uuid", kind: .data, message: "invalid uuid '\(text.prefix(64))'")
                }
                out.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        guard out.count == 16, high == nil else {
            throw PGError(clientReason: "pg_bad_uuid", kind: .data, message: "invalid uuid '\(text.prefix(64))'")
        }
        return out
    }
}
