/// A lenient SSH wire-format model of a certificate blob (PROTOCOL.certkeys) for the mutator: the
/// top-level fields in order, each a `string`, `uint32` or `uint64`. Encoding can lie about one
/// string's length, which is how the length-field mutations are made.
struct CertBlob {
    enum Field: Equatable {
        case string([UInt8])
        case u32(UInt32)
        case u64(UInt64)
    }

    var fields: [Field]

    /// Index of the first field after the certified key's fields (the serial).
    static func keyFieldCount(_ type: String) -> Int? {
        switch type {
        case "ssh-ed25519-cert-v01@openssh.com": return 1
        case "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
             "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ssh-rsa-cert-v01@openssh.com": return 2
        default: return nil
        }
    }

    /// Field layout after nonce and key: serial, type, key id, principals, valid after/before,
    /// critical options, extensions, reserved, signature key, signature.
    static let tail: [String] = ["u64", "u32", "s", "s", "u64", "u64", "s", "s", "s", "s", "s"]

    /// Decodes a well-formed certificate blob, nil when its layout does not fit.
    static func decode(_ blob: [UInt8]) -> CertBlob? {
        var r = WireReader(blob)
        guard let type = r.string(), let keyFields = keyFieldCount(String(decoding: type, as: UTF8.self)) else { return nil }
        var fields: [Field] = [.string(type)]
        for _ in 0..<(1 + keyFields) {
            guard let s = r.string() else { return nil }
            fields.append(.string(s))
        }
        for kind in tail {
            switch kind {
            case "u64": guard let v = r.u64() else { return nil }; fields.append(.u64(v))
            case "u32": guard let v = r.u32() else { return nil }; fields.append(.u32(v))
            default: guard let s = r.string() else { return nil }; fields.append(.string(s))
            }
        }
        guard r.atEnd else { return nil }
        return CertBlob(fields: fields)
    }

    /// Named positions (valid for a blob that `decode` produced and whose layout was kept).
    var keyFields: Int { fields.count - 2 - Self.tail.count }
    var serialIndex: Int { 2 + keyFields }
    var kindIndex: Int { serialIndex + 1 }
    var keyIDIndex: Int { serialIndex + 2 }
    var principalsIndex: Int { serialIndex + 3 }
    var validAfterIndex: Int { serialIndex + 4 }
    var validBeforeIndex: Int { serialIndex + 5 }
    var criticalIndex: Int { serialIndex + 6 }
    var extensionsIndex: Int { serialIndex + 7 }
    var signatureKeyIndex: Int { fields.count - 2 }
    var signatureIndex: Int { fields.count - 1 }

    func encode(lie: (index: Int, length: UInt32)? = nil) -> [UInt8] {
        var w = WireWriter()
        for (i, field) in fields.enumerated() {
            switch field {
            case .string(let s):
                if let lie, lie.index == i {
                    w.u32(lie.length)
                    w.bytes.append(contentsOf: s)
                } else {
                    w.string(s)
                }
            case .u32(let v): w.u32(v)
            case .u64(let v): w.u64(v)
            }
        }
        return w.bytes
    }

    /// Everything before the signature field: what the CA signs.
    var body: [UInt8] { CertBlob(fields: Array(fields.dropLast())).encode() }

    func string(_ i: Int) -> [UInt8]? {
        guard fields.indices.contains(i), case .string(let s) = fields[i] else { return nil }
        return s
    }
}

struct WireReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { offset == bytes.count }

    mutating func u32() -> UInt32? { bigEndian() }

    mutating func u64() -> UInt64? { bigEndian() }

    /// The next `T`, big-endian (the SSH wire's byte order).
    private mutating func bigEndian<T: FixedWidthInteger & UnsignedInteger>() -> T? {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { return nil }
        var v: T = 0
        for i in 0..<size { v = v << 8 | T(bytes[offset + i]) }
        offset += size
        return v
    }

    mutating func string() -> [UInt8]? {
        let start = offset
        guard let n = u32(), UInt64(n) <= UInt64(bytes.count - offset) else {
            offset = start
            return nil
        }
        defer { offset += Int(n) }
        return Array(bytes[offset..<(offset + Int(n))])
    }

    /// Strings until the end (principal lists, option lists), nil if the bytes do not split cleanly.
    static func strings(_ bytes: [UInt8]) -> [[UInt8]]? {
        var r = WireReader(bytes)
        var out: [[UInt8]] = []
        while !r.atEnd {
            guard let s = r.string() else { return nil }
            out.append(s)
        }
        return out
    }
}

struct WireWriter {
    var bytes: [UInt8] = []

    mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    mutating func string(_ s: [UInt8]) {
        u32(UInt32(truncatingIfNeeded: s.count))
        bytes.append(contentsOf: s)
    }

    mutating func string(_ s: String) { string(Array(s.utf8)) }

    static func strings(_ items: [[UInt8]]) -> [UInt8] {
        var w = WireWriter()
        for item in items { w.string(item) }
        return w.bytes
    }
}
