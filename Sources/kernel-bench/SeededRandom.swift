import KernelRuntime

/// SplitMix64: a fixed seed gives the same events on every run and machine.
struct SeededRandom {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    /// A version-4 UUID from the stream (event ids must be unique within a run, not globally).
    mutating func uuid() -> (bytes: [UInt8], text: String) {
        uuid(unixMillis: nil)
    }

    /// A UUIDv7 (RFC 9562) as the example producers make them: 48 bits of Unix milliseconds,
    /// then random bits.
    mutating func uuidV7(unixMillis: Int64) -> (bytes: [UInt8], text: String) {
        uuid(unixMillis: unixMillis)
    }

    private mutating func uuid(unixMillis: Int64?) -> (bytes: [UInt8], text: String) {
        var bytes = [UInt8](repeating: 0, count: 16)
        var a = next()
        let b = next()
        if let unixMillis { a = (UInt64(unixMillis) & 0xFFFF_FFFF_FFFF) << 16 | (a & 0xFFFF) }
        for i in 0..<8 {
            bytes[i] = UInt8(truncatingIfNeeded: a >> (56 - 8 * UInt64(i)))
            bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (56 - 8 * UInt64(i)))
        }
        bytes[6] = (bytes[6] & 0x0F) | (unixMillis == nil ? 0x40 : 0x70)
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        let hex: [Character] = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(36)
        for (i, byte) in bytes.enumerated() {
            if i == 4 || i == 6 || i == 8 || i == 10 { text.append("-") }
            text.append(hex[Int(byte >> 4)])
            text.append(hex[Int(byte & 0x0F)])
        }
        return (bytes, text)
    }
}
