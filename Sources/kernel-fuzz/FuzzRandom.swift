import KernelRuntime

/// The fuzzer's only source of randomness: SplitMix64, so a run is a pure function of `--seed`.
struct FuzzRandom {
    private var generator: SplitMix64

    init(seed: UInt64) { generator = SplitMix64(seed: seed) }

    mutating func next() -> UInt64 { generator.next() }

    /// Uniform in `0..<n` (n > 0); the modulo bias is irrelevant here.
    mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }

    /// Uniform in `range`.
    mutating func inRange(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    /// True with probability `1/n`.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }

    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }

    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Mostly small numbers: most mutations should stay close to valid input.
    mutating func smallCount(max: Int) -> Int {
        let limit = max < 1 ? 1 : max
        switch below(4) {
        case 0, 1: return 1 + below(min(limit, 4))
        case 2: return 1 + below(min(limit, 32))
        default: return 1 + below(limit)
        }
    }
}

/// FNV-1a, 64 bits: names failure files after their content and derives per-input choices
/// (policy, clock) so that replaying an input alone reproduces its run.
enum FNV {
    static func hash<C: Sequence>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let text = String(hash(bytes), radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }
}
