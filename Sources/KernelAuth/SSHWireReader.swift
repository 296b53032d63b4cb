/// Reads the SSH wire encoding (RFC 4251 §5): `uint32` big-endian and length-prefixed `string`s.
/// Every read is bounds-checked and returns nil past the end; the input is untrusted.
struct SSHWireReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    mutating func readUInt32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(bytes[offset + i]) }
        offset += 4
        return value
    }

    mutating func readString() -> [UInt8]? {
        let start = offset
        guard let length = readUInt32(), Int(length) <= remaining else {
            offset = start
            return nil
        }
        let value = Array(bytes[offset..<offset + Int(length)])
        offset += Int(length)
        return value
    }

    mutating func readBytes(_ count: Int) -> [UInt8]? {
        guard count >= 0, count <= remaining else { return nil }
        let value = Array(bytes[offset..<offset + count])
        offset += count
        return value
    }

    /// The bytes not read yet.
    mutating func readRest() -> [UInt8] {
        let value = Array(bytes[offset...])
        offset = bytes.count
        return value
    }
}
