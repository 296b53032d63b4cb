/// Builds SSH wire encodings (RFC 4251 §5).
struct SSHWireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func writeUInt32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    mutating func writeString<C: Collection>(_ value: C) where C.Element == UInt8 {
        writeUInt32(UInt32(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeString(_ text: String) {
        writeString(Array(text.utf8))
    }

    /// A non-negative `mpint` from its big-endian magnitude (leading zeros trimmed, sign byte added).
    mutating func writeMPInt(_ magnitude: [UInt8]) {
        let trimmed = magnitude.drop { $0 == 0 }
        if let first = trimmed.first, first & 0x80 != 0 {
            writeString([0] + trimmed)
        } else {
            writeString(trimmed)
        }
    }
}
