/// A UUID as 16 bytes, parsed from and printed as canonical lower-case text
/// (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`). Any version is accepted (SPEC §2).
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
        guard bytes.count == 36 else { return nil }
        var hi: UInt64 = 0, lo: UInt64 = 0
        var digits = 0
        for position in 0..<36 {
            let c = bytes[position]
            if position == 8 || position == 13 || position == 18 || position == 23 {
                guard c == UInt8(ascii: "-") else { return nil }
                continue
            }
            let v: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): v = c &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): v = c &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            if digits < 16 { hi = hi << 4 | UInt64(v) } else { lo = lo << 4 | UInt64(v) }
            digits += 1
        }
        return EventUUID(high: hi, low: lo)
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
            var j = 0
            for i in 0..<32 {
                if i == 8 || i == 12 || i == 16 || i == 20 {
                    out[j] = UInt8(ascii: "-")
                    j += 1
                }
                let word = i < 16 ? high : low
                let nibble = UInt8(truncatingIfNeeded: (word >> UInt64(60 - 4 * (i % 16))) & 0xF)
                out[j] = nibble < 10 ? UInt8(ascii: "0") &+ nibble : UInt8(ascii: "a") &+ (nibble &- 10)
                j += 1
            }
            return 36
        }
    }

    public static func < (a: EventUUID, b: EventUUID) -> Bool { (a.high, a.low) < (b.high, b.low) }
}
