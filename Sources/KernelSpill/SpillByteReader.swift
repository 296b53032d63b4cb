/// Reads the event encoding from untrusted bytes: every length is checked against what remains,
/// so a lying length ends in an error, never a trap or a large allocation.
struct SpillByteReader {
    private let bytes: ArraySlice<UInt8>
    private var position: Int

    init(_ bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.position = bytes.startIndex
    }

    var remaining: Int { bytes.endIndex - position }

    private func fail(_ what: String) -> SpillFormatError {
        .badRecord("\(what) at byte \(position - bytes.startIndex) of \(bytes.count)")
    }

    mutating func integer<T: FixedWidthInteger>(_: T.Type, _ what: String) throws(SpillFormatError) -> T {
        let size = MemoryLayout<T>.size
        guard remaining >= size else { throw fail("truncated \(what)") }
        let value = bytes.withUnsafeBytes { raw in
            loadLE(raw, at: position - bytes.startIndex, as: T.self)
        }
        position += size
        return value
    }

    mutating func byte(_ what: String) throws(SpillFormatError) -> UInt8 {
        try integer(UInt8.self, what)
    }

    /// A u32 count of elements each at least `minimumElementSize` bytes long; refused when the
    /// elements could not fit in what remains (so callers may reserve capacity for it).
    mutating func count(_ what: String, minimumElementSize: Int) throws(SpillFormatError) -> Int {
        let n = Int(try integer(UInt32.self, what))
        guard n <= remaining / max(minimumElementSize, 1) else {
            throw fail("\(what) \(n) exceeds the remaining bytes")
        }
        return n
    }

    /// A u32 length and that many bytes.
    mutating func lengthPrefixed(_ what: String) throws(SpillFormatError) -> ArraySlice<UInt8> {
        let n = Int(try integer(UInt32.self, "\(what) length"))
        guard n <= remaining else { throw fail("\(what) length \(n) exceeds the remaining \(remaining) bytes") }
        let slice = bytes[position..<(position + n)]
        position += n
        return slice
    }

    /// A u32 length and that many bytes of valid UTF-8.
    mutating func string(_ what: String) throws(SpillFormatError) -> String {
        let start = position
        let raw = try lengthPrefixed(what)
        guard let text = String(validating: raw, as: UTF8.self) else {
            position = start
            throw fail("\(what) is not valid UTF-8")
        }
        return text
    }

    func expectEnd() throws(SpillFormatError) {
        guard remaining == 0 else { throw fail("\(remaining) unexpected trailing bytes") }
    }
}
