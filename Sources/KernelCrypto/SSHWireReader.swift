/// Reads the SSH wire encoding (RFC 4251 §5) from untrusted bytes.
///
/// Every read checks the remaining length *before* using a length field, so no length can make it
/// read past the buffer or allocate more than the buffer holds. A failed read returns nil and
/// leaves the offset where it was.
public struct SSHWireReader {
    /// Largest bignum OpenSSH accepts (SSHBUF_MAX_BIGNUM: 16384 bits), plus a sign byte.
    public static let maxMPIntBytes = 16384 / 8 + 1

    private let bytes: [UInt8]
    public private(set) var offset: Int

    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    public var isAtEnd: Bool { offset == bytes.count }
    public var remaining: Int { bytes.count - offset }

    /// The bytes already read (for "the signed part of a certificate").
    public var consumed: ArraySlice<UInt8> { bytes[0..<offset] }

    public mutating func readUInt32() -> UInt32? { readBigEndian() }

    public mutating func readUInt64() -> UInt64? { readBigEndian() }

    /// A big-endian unsigned integer of `T`'s width; nil (nothing consumed) when fewer bytes remain.
    private mutating func readBigEndian<T: FixedWidthInteger & UnsignedInteger>() -> T? {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { return nil }
        var value: T = 0
        for i in 0..<size { value = value << 8 | T(bytes[offset + i]) }
        offset += size
        return value
    }

    /// `string`: uint32 length, then that many bytes.
    public mutating func readString() -> [UInt8]? {
        let start = offset
        guard let length = readUInt32() else { return nil }
        // Compare in UInt64 space: a length near 2^32 must not wrap or trap on 32-bit Int.
        guard UInt64(length) <= UInt64(remaining) else {
            offset = start
            return nil
        }
        let value = Array(bytes[offset..<(offset + Int(length))])
        offset += Int(length)
        return value
    }

    /// A `string` that must be text without NUL bytes (OpenSSH's `sshbuf_get_cstring`), as UTF-8.
    /// Invalid UTF-8 is refused too: names and key ids end up in logs and JSON.
    public mutating func readText() -> String? {
        let start = offset
        guard let raw = readString(), !raw.contains(0), let text = String(validating: raw, as: UTF8.self) else {
            offset = start
            return nil
        }
        return text
    }

    /// `mpint`: two's complement big-endian. Only non-negative, minimally encoded values of at most
    /// 16384 bits are accepted (as OpenSSH's `sshbuf_get_bignum2_bytes_direct`). Returns the
    /// magnitude without the sign byte (empty for zero).
    public mutating func readMPInt() -> [UInt8]? {
        let start = offset
        guard let raw = readString(), raw.count <= Self.maxMPIntBytes else {
            offset = start
            return nil
        }
        if raw.isEmpty { return [] }
        // Negative numbers, and a leading zero byte that is not needed as a sign byte, are refused.
        if raw[0] & 0x80 != 0 || (raw[0] == 0 && (raw.count == 1 || raw[1] & 0x80 == 0)) {
            offset = start
            return nil
        }
        return raw[0] == 0 ? Array(raw.dropFirst()) : raw
    }

    /// `name-list`: a string of comma-separated, non-empty ASCII names (RFC 4251 §5).
    public mutating func readNameList() -> [String]? {
        let start = offset
        guard let raw = readString() else { return nil }
        if raw.isEmpty { return [] }
        guard raw.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            offset = start
            return nil
        }
        let names = raw.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard !names.contains(where: \.isEmpty) else {
            offset = start
            return nil
        }
        return names.map { String(decoding: $0, as: UTF8.self) }
    }

    /// `count` raw bytes (fixed-size fields such as OpenSSH's key-file magic).
    public mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= remaining else { return nil }
        let value = Array(bytes[offset..<offset + count])
        offset += count
        return value
    }

    /// The bytes not read yet.
    public mutating func readRest() -> [UInt8] {
        let value = Array(bytes[offset...])
        offset = bytes.count
        return value
    }
}
