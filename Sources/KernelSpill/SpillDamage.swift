/// A stretch of a segment file that could not be read back as records.
///
/// Damage never stops the reader unless it reaches the end of the file: the records before and
/// after a damaged stretch still come back.
public struct SpillDamage: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The 24-byte file header is short, foreign, of an unknown version or fails its CRC:
        /// nothing in the file is trusted (`offset` 0, `length` the file size).
        case badHeader
        /// A complete record whose CRC32C does not match.
        case badChecksum
        /// A record length that is above the format's limit, or runs past the end of the file while
        /// a valid record follows (so the length itself is the damage).
        case badLength
        /// No record magic where a record must start (e.g. a flipped byte in the magic).
        case badMagic
        /// The file ends inside a record (or in zero bytes) with no valid record after it, in a
        /// segment that was never sealed: the trace of a crash or a failed write during an append,
        /// whose batch was never acknowledged. Always the last item of a file.
        case tornTail
        /// The file ends before its sealed length (or inside a record of a segment that was, or may
        /// have been, sealed): acknowledged records are missing. Always the last item of a file.
        case truncated
        /// A record whose frame is intact (CRC ok) but whose payload is not a valid event encoding.
        /// Reported by `SpillSegmentScan` and by callers that decode, not by the segment reader.
        case badRecord

        /// Stable snake_case reason code (same as the matching `SpillFormatError`).
        public var reasonCode: String {
            switch self {
            case .badHeader: "spill_bad_header"
            case .badChecksum: "spill_bad_checksum"
            case .badLength: "spill_bad_length"
            case .badMagic: "spill_bad_magic"
            case .tornTail: "spill_torn_tail"
            case .truncated: "spill_truncated"
            case .badRecord: "spill_bad_record"
            }
        }
    }

    /// The segment file's path.
    public var file: String
    /// Byte offset of the first damaged byte (a record's start).
    public var offset: Int64
    /// Damaged bytes skipped, up to the next valid record or the end of the file.
    public var length: Int64
    public var kind: Kind
    /// What was found, for an operator.
    public var detail: String
    /// Records lost in this stretch when the segment's seal tells (`.truncated`); nil when unknown
    /// (a damaged stretch hides at least one record).
    public var records: Int?
    /// Records the sealed segment held, all acknowledged (`.truncated` of a sealed segment).
    public var sealedRecords: Int?

    public init(file: String, offset: Int64, length: Int64, kind: Kind, detail: String,
                records: Int? = nil, sealedRecords: Int? = nil) {
        self.file = file
        self.offset = offset
        self.length = length
        self.kind = kind
        self.detail = detail
        self.records = records
        self.sealedRecords = sealedRecords
    }

    public var reasonCode: String { kind.reasonCode }

    public var description: String {
        "\(kind.reasonCode) in \(file) at offset \(offset) (\(length) bytes): \(detail)"
    }
}
