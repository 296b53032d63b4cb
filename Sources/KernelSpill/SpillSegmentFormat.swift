/// The byte layout of a segment file (docs/spill.md has the full description).
///
/// Header (24 bytes): `"DKSPILL\0" | u16 version | u16 flags | i64 created Unix ns | u32 CRC32C of
/// the 20 bytes before it`. Records: `u32 magic | u32 payload length | u32 CRC32C(length bytes +
/// payload) | payload`. All integers little-endian.
public enum SpillSegmentFormat {
    public static let fileMagic: [UInt8] = Array("DKSPILL".utf8) + [0]
    public static let version: UInt16 = 1
    public static let headerSize = 24
    /// Bytes E7 5B 1E 5C on disk. Not valid UTF-8 as a sequence and not ASCII, so it does not occur
    /// in the text that fills most payloads; a false match is rejected by the record's CRC anyway.
    public static let recordMagic: UInt32 = 0x5C1E_5BE7
    public static let recordHeaderSize = 12
    /// The largest record payload written or accepted. A length above it is damage, so a flipped
    /// bit in a length field cannot make the reader chase gigabytes.
    public static let maxRecordPayload = 64 << 20

    public static let fileNamePrefix = "spill-"
    public static let fileNameSuffix = ".seg"
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

    /// The 24 header bytes.
    static func header(createdAtNanos: Int64, flags: UInt16 = 0) -> [UInt8] {
        var out = fileMagic
        out.reserveCapacity(headerSize)
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
        guard bytes.count >= headerSize else {
            return .failure(.badHeader("file is \(bytes.count) bytes, shorter than the \(headerSize)-byte header"))
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
        guard found == version else {
            return .failure(.badHeader("unsupported segment format version \(found) (this build reads \(version))"))
        }
        return .success(Header(version: found, flags: loadLE(bytes, at: 10, as: UInt16.self),
                               createdAtNanos: loadLE(bytes, at: 12, as: Int64.self)))
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
