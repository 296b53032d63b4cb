/// A UUID as 16 bytes, parsed from and printed as canonical lower-case text
/// (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`). Any version is accepted (docs/protocol.md, "Event envelope").
public struct EventUUID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The first 8 bytes, big-endian.
    public var high: UInt64
    /// The last 8 bytes, big-endian.
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Parses the 36-character hyphenated form, either case. Braces, URNs and the 32-digit form are
    /// refused: producers send the canonical form.
    public init?<S: StringProtocol>(_ text: S) {
        let parsed = text.utf8.withContiguousStorageIfAvailable {
            EventUUID.parse(UnsafeRawBufferPointer($0))
        } ?? Array(text.utf8).withUnsafeBytes { EventUUID.parse($0) }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Parses the 36-character hyphenated form from UTF-8 bytes (the hot path: no `String` needed).
    public init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard let parsed = EventUUID.parse(bytes) else { return nil }
        self = parsed
    }

    /// The hyphens sit at fixed offsets; every other byte is one hex digit.
    private static func parse(_ bytes: UnsafeRawBufferPointer) -> EventUUID? {
        guard bytes.count == 36,
              bytes[8] == UInt8(ascii: "-"), bytes[13] == UInt8(ascii: "-"),
              bytes[18] == UInt8(ascii: "-"), bytes[23] == UInt8(ascii: "-") else { return nil }
        // Two events' ids per entry go through here: a table instead of a branch per digit.
        return hexValues.withUnsafeBufferPointer { table -> EventUUID? in
            var hi: UInt64 = 0, lo: UInt64 = 0
            var bad: UInt8 = 0
            @inline(__always) func digits(_ range: Range<Int>, into word: inout UInt64) {
                for position in range {
                    let v = table[Int(bytes[position])]
                    bad |= v
                    word = word << 4 | UInt64(v & 0xF)
                }
            }
            digits(0..<8, into: &hi)
            digits(9..<13, into: &hi)
            digits(14..<18, into: &hi)
            digits(19..<23, into: &lo)
            digits(24..<36, into: &lo)
            return bad & 0x80 == 0 ? EventUUID(high: hi, low: lo) : nil
        }
    }

    /// Hex digit values by byte; 0x80 marks a byte that is not a hex digit.
    private static let hexValues: [UInt8] = (0..<256).map { b -> UInt8 in
        switch UInt8(b) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt8(b) - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt8(b) - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt8(b) - UInt8(ascii: "A") + 10
        default: 0x80
        }
    }

    /// The 16 bytes, big-endian (network order), as Postgres binary `uuid` wants them.
    public var bytes: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for i in 0..<8 {
            out[i] = UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64(i)))
            out[8 + i] = UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64(i)))
        }
        return out
    }

    /// Canonical lower-case hyphenated text.
    public var description: String {
        String(unsafeUninitializedCapacity: 36) { out in
            writeText(into: out)
            return 36
        }
    }

    /// Appends the canonical text to `out` without building a `String` (the plugin host prints ids
    /// straight into the C arena it hands to plugins).
    public func appendText(to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 36) { text in
            writeText(into: text)
            out.append(contentsOf: UnsafeBufferPointer(text))
        }
    }

    /// The 36 bytes of the canonical text into `out` (at least 36 long): each of the 16 bytes as
    /// two digits from a table, a hyphen before bytes 4, 6, 8 and 10. (Printed nibble by nibble,
    /// with a branch per digit, this was 1.5 % of a trade drain's kernel CPU: every plugin call
    /// prints each event's two ids.)
    private func writeText(into out: UnsafeMutableBufferPointer<UInt8>) {
        let hex: StaticString = "0123456789abcdef"
        hex.withUTF8Buffer { digits in
            var j = 0
            for i in 0..<16 {
                if i == 4 || i == 6 || i == 8 || i == 10 {
                    out[j] = UInt8(ascii: "-")
                    j += 1
                }
                let word = i < 8 ? high : low
                let byte = UInt8(truncatingIfNeeded: word >> UInt64(56 - 8 * (i & 7)))
                out[j] = digits[Int(byte >> 4)]
                out[j + 1] = digits[Int(byte & 0x0F)]
                j += 2
            }
        }
    }

    public static func < (a: EventUUID, b: EventUUID) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
