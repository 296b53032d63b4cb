/// The byte layout of a segment file (docs/spill.md has the full description).
///
/// Format 2 (written): header (24 bytes) `"DKSPILL\0" | u16 version | u16 flags | i64 created Unix ns
/// | u32 CRC32C of the 20 bytes before it`, then the seal slot (32 bytes, zeros until the segment is
/// sealed), then records from offset 56. Format 1 (read, written by earlier releases): the same
/// header, records from offset 24, no seal slot. Records: `u32 magic | u32 payload length |
/// u32 CRC32C(length bytes + payload) | payload`. All integers little-endian.
public enum SpillSegmentFormat {
    public static let fileMagic: [UInt8] = Array("DKSPILL".utf8) + [0]
    /// The version written.
    public static let version: UInt16 = 2
    /// The version of segments written before the seal slot existed; still read.
    public static let legacyVersion: UInt16 = 1
    /// The fixed header (magic, version, flags, time, CRC), the same in both versions.
    public static let fixedHeaderSize = 24
    /// The seal slot follows the fixed header (format 2). It is the one place in a segment written
    /// in place: once, when the segment is sealed, after every record is fsynced. Because it sits
    /// at the start, cutting the end of a sealed file cannot remove the evidence that it was
    /// sealed, and at what length (docs/spill.md, "The seal").
    public static let sealOffset = 24
    public static let sealSize = 32
    /// Bytes D0 15 EA C5 on disk; differs from the record magic, so a format-1 record at offset 24
    /// is never taken for a seal.
    public static let sealMagic: UInt32 = 0xC5EA_15D0
    /// Where the records of a format-2 segment begin: the size of a new, empty segment.
    public static let headerSize = fixedHeaderSize + sealSize
    /// Bytes E7 5B 1E 5C on disk. Not valid UTF-8 as a sequence and not ASCII, so it does not occur
    /// in the text that fills most payloads; a false match is rejected by the record's CRC anyway.
    public static let recordMagic: UInt32 = 0x5C1E_5BE7
    public static let recordHeaderSize = 12
    /// The largest record payload written or accepted. A length above it is damage, so a flipped
    /// bit in a length field cannot make the reader chase gigabytes.
    public static let maxRecordPayload = 64 << 20

    public static let fileNamePrefix = "spill-"
    public static let fileNameSuffix = ".seg"
    /// A segment the replayer found damaged is renamed `<name>.damaged` (kept for `kernel spill salvage`).
    public static let damagedSuffix = ".damaged"
    static let sequenceDigits = 20

    /// `spill-<20-digit zero-padded sequence>.seg`: names sort as their sequences do.
    public static func fileName(sequence: UInt64) -> String {
        let digits = String(sequence)
        return fileNamePrefix + String(repeating: "0", count: sequenceDigits - digits.count) + digits + fileNameSuffix
    }

    /// The sequence of a segment file name, or nil for any other name.
    public static func sequence(fromFileName name: String) -> UInt64? {
        let utf8 = Array(name.utf8)
        let prefix = Array(fileNamePrefix.utf8), suffix = Array(fileNameSuffix.utf8)
        guard utf8.count == prefix.count + sequenceDigits + suffix.count,
              utf8.starts(with: prefix), utf8.suffix(suffix.count).elementsEqual(suffix) else { return nil }
        let digits = utf8[prefix.count..<(prefix.count + sequenceDigits)]
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        return UInt64(String(decoding: digits, as: UTF8.self))
    }

    /// The sequence of a quarantined segment's name (`spill-<sequence>.seg.damaged`), or nil.
    public static func sequence(fromDamagedFileName name: String) -> UInt64? {
        guard name.hasSuffix(damagedSuffix) else { return nil }
        return sequence(fromFileName: String(name.dropLast(damagedSuffix.count)))
    }

    /// The 24 fixed header bytes (`version` other than the current one only for tests of old files).
    static func header(createdAtNanos: Int64, flags: UInt16 = 0, version: UInt16 = version) -> [UInt8] {
        var out = fileMagic
        out.reserveCapacity(fixedHeaderSize)
        out.appendLE(version)
        out.appendLE(flags)
        out.appendLE(createdAtNanos)
        out.appendLE(CRC32C.checksum(out))
        return out
    }

    /// A parsed, checked header.
    public struct Header: Sendable, Equatable {
        public var version: UInt16
        public var flags: UInt16
        public var createdAtNanos: Int64
    }

    /// Checks a header; the failure describes what is wrong.
    static func parseHeader(_ bytes: UnsafeRawBufferPointer) -> Result<Header, SpillFormatError> {
        guard bytes.count >= fixedHeaderSize else {
            return .failure(.badHeader("file is \(bytes.count) bytes, shorter than the \(fixedHeaderSize)-byte header"))
        }
        guard bytes.prefix(fileMagic.count).elementsEqual(fileMagic) else {
            return .failure(.badHeader("not a spill segment (bad magic)"))
        }
        let stored = loadLE(bytes, at: 20, as: UInt32.self)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<20]))
        guard stored == computed else {
            return .failure(.badHeader("header checksum mismatch (stored 0x\(hex(stored)), computed 0x\(hex(computed)))"))
        }
        let found = loadLE(bytes, at: 8, as: UInt16.self)
        guard found == version || found == legacyVersion else {
            return .failure(.badHeader("unsupported segment format version \(found) (this build reads \(legacyVersion) and \(version))"))
        }
        return .success(Header(version: found, flags: loadLE(bytes, at: 10, as: UInt16.self),
                               createdAtNanos: loadLE(bytes, at: 12, as: Int64.self)))
    }

    /// Where records begin in a segment of `version`.
    public static func recordsStart(version: UInt16) -> Int {
        version == legacyVersion ? fixedHeaderSize : headerSize
    }

    /// What a segment says about how it was closed.
    public enum Seal: Sendable, Equatable {
        /// Format 2, seal slot all zeros: the segment being appended, or one whose writer died or
        /// failed before sealing it. Only such a segment may end in a torn record.
        case open
        /// Sealed at `length` bytes holding `records` records, all fsynced and acknowledged.
        case sealed(length: Int64, records: Int64)
        /// The seal slot is neither zeros nor a valid seal (or the header is too damaged to tell
        /// the version): the segment may have been sealed, so a cut end is damage.
        case unreadable(String)
        /// Format 1 (no seal slot): a crash mid-append cannot be told from a cut, so a cut end is
        /// reported as damage and the file kept (docs/spill.md, "Segments of format 1").
        case legacy
    }

    /// The 32 seal-slot bytes: `u32 seal magic | u32 0 | u64 length | u64 records | u32 CRC32C of
    /// the 24 bytes before it | u32 0`. The reserved words must read as zero.
    static func seal(length: Int64, records: Int64) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(sealSize)
        out.appendLE(sealMagic)
        out.appendLE(UInt32(0))
        out.appendLE(UInt64(length))
        out.appendLE(UInt64(records))
        out.appendLE(CRC32C.checksum(out))
        out.appendLE(UInt32(0))
        return out
    }

    /// Reads a seal slot (`bytes` may be shorter than the slot when the file is).
    static func parseSeal(_ bytes: UnsafeRawBufferPointer) -> Seal {
        if bytes.allSatisfy({ $0 == 0 }) { return .open }
        guard bytes.count >= sealSize else { return .unreadable("seal slot cut short (\(bytes.count) of \(sealSize) bytes)") }
        guard loadLE(bytes, at: 0, as: UInt32.self) == sealMagic else { return .unreadable("no seal magic in the seal slot") }
        guard loadLE(bytes, at: 4, as: UInt32.self) == 0, loadLE(bytes, at: 28, as: UInt32.self) == 0 else {
            return .unreadable("reserved seal bytes are not zero")
        }
        let stored = loadLE(bytes, at: 24, as: UInt32.self)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<24]))
        guard stored == computed else {
            return .unreadable("seal checksum mismatch (stored 0x\(hex(stored)), computed 0x\(hex(computed)))")
        }
        let length = loadLE(bytes, at: 8, as: UInt64.self), records = loadLE(bytes, at: 16, as: UInt64.self)
        guard length <= UInt64(Int64.max), records <= UInt64(Int64.max) else { return .unreadable("seal values out of range") }
        return .sealed(length: Int64(length), records: Int64(records))
    }

    /// Appends one framed record (header + payload) to `out`.
    static func appendRecord(payload: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.appendLE(recordMagic)
        let lengthAt = out.count
        out.appendLE(UInt32(payload.count))
        var crc = out.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[lengthAt..<(lengthAt + 4)])) }
        crc = CRC32C.checksum(payload, seed: crc)
        out.appendLE(crc)
        out.append(contentsOf: payload)
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}
