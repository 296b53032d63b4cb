/// Structure-blind byte mutations (the classic AFL/libFuzzer set) with a per-target dictionary of
/// tokens that matter to the format, so even blind mutations speak a little of the grammar.
struct ByteMutator {
    /// Format tokens spliced in whole (`"alg"`, `"-cert-v01@openssh.com"`, `"<<:"`, …).
    let dictionary: [[UInt8]]
    /// Inputs never grow past this (the parsers' own limits sit below it, so they are crossed).
    let maxLength: Int

    static let interestingBytes: [UInt8] = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xC0, 0xC1, 0xED, 0xF4, 0xF5, 0xFE,
                                            0x20, 0x09, 0x0A, 0x0D, 0x22, 0x5C, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D,
                                            0x2E, 0x3D, 0x2B, 0x2F, 0x2D, 0x5F, 0x30, 0x39, 0x41, 0x61]

    /// Byte sequences that are invalid or borderline UTF-8: overlongs, surrogates, truncated
    /// sequences, code points past U+10FFFF, and a BOM.
    static let oddUTF8: [[UInt8]] = [
        [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
        [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
        [0x80], [0xBF], [0xFF], [0xFE], [0xEF, 0xBB, 0xBF], [0xE2, 0x80, 0xA8], [0xE2, 0x80, 0xA9],
        [0xCC, 0x81], [0xF0, 0x9F, 0x98, 0x80], [0x00],
    ]

    /// Applies 1 to a few stacked mutations. `other` is another corpus input, for crossover.
    func mutate(_ input: [UInt8], other: [UInt8], rng: inout FuzzRandom) -> [UInt8] {
        var data = input
        let rounds = 1 + (rng.oneIn(3) ? rng.below(6) : 0)
        for _ in 0..<rounds { mutateOnce(&data, other: other, rng: &rng) }
        if data.count > maxLength { data.removeSubrange(maxLength...) }
        return data
    }

    func mutateOnce(_ data: inout [UInt8], other: [UInt8], rng: inout FuzzRandom) {
        switch rng.below(17) {
        case 0: // flip one bit
            guard !data.isEmpty else { return insertRandom(&data, rng: &rng) }
            data[rng.below(data.count)] ^= 1 << UInt8(rng.below(8))
        case 1: // random byte
            guard !data.isEmpty else { return insertRandom(&data, rng: &rng) }
            data[rng.below(data.count)] = rng.byte()
        case 2: // interesting byte
            guard !data.isEmpty else { return insertRandom(&data, rng: &rng) }
            data[rng.below(data.count)] = rng.pick(Self.interestingBytes)
        case 3: insertRandom(&data, rng: &rng)
        case 4: // delete a range
            guard !data.isEmpty else { return }
            let start = rng.below(data.count)
            let n = rng.smallCount(max: data.count - start)
            data.removeSubrange(start..<(start + n))
        case 5: // duplicate a range in place
            guard !data.isEmpty else { return }
            let start = rng.below(data.count)
            let n = rng.smallCount(max: data.count - start)
            data.insert(contentsOf: data[start..<(start + n)], at: rng.below(data.count + 1))
        case 6, 7: // dictionary token inserted
            guard !dictionary.isEmpty else { return insertRandom(&data, rng: &rng) }
            data.insert(contentsOf: rng.pick(dictionary), at: rng.below(data.count + 1))
        case 8: // dictionary token overwriting
            guard !dictionary.isEmpty, !data.isEmpty else { return insertRandom(&data, rng: &rng) }
            let token = rng.pick(dictionary)
            let at = rng.below(data.count)
            let end = min(data.count, at + token.count)
            data.replaceSubrange(at..<end, with: token)
        case 9: // truncate
            guard !data.isEmpty else { return }
            data.removeSubrange(rng.below(data.count)...)
        case 10: // crossover: splice a piece of another input
            guard !other.isEmpty else { return insertRandom(&data, rng: &rng) }
            let start = rng.below(other.count)
            let n = rng.smallCount(max: other.count - start)
            data.insert(contentsOf: other[start..<(start + n)], at: rng.below(data.count + 1))
        case 11: // swap two ranges' bytes
            guard data.count >= 2 else { return }
            for _ in 0..<rng.smallCount(max: 8) { data.swapAt(rng.below(data.count), rng.below(data.count)) }
        case 12: // odd UTF-8
            data.insert(contentsOf: rng.pick(Self.oddUTF8), at: rng.below(data.count + 1))
        case 13: // big-endian interesting integer written over 4 bytes (SSH lengths, …)
            let value = rng.pick(Self.interesting32)
            let bytes = (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * UInt32($0))) }
            if data.count >= 4, rng.oneIn(2) {
                let at = rng.below(data.count - 3)
                data.replaceSubrange(at..<(at + 4), with: bytes)
            } else {
                data.insert(contentsOf: bytes, at: rng.below(data.count + 1))
            }
        case 14: // increment/decrement a byte (digits, lengths)
            guard !data.isEmpty else { return }
            let at = rng.below(data.count)
            data[at] = rng.oneIn(2) ? data[at] &+ 1 : data[at] &- 1
        case 15: // repeat a chunk many times (size limits, quadratic paths)
            guard !data.isEmpty else { return }
            let start = rng.below(data.count)
            let n = rng.smallCount(max: min(16, data.count - start))
            let chunk = Array(data[start..<(start + n)])
            let times = rng.pick([16, 64, 256, 1024, 4096])
            guard data.count + chunk.count * times <= maxLength else { return }
            var grown: [UInt8] = []
            grown.reserveCapacity(chunk.count * times)
            for _ in 0..<times { grown.append(contentsOf: chunk) }
            data.insert(contentsOf: grown, at: start)
        default: // replace the whole input with another's prefix + our suffix
            guard !other.isEmpty, !data.isEmpty else { return }
            let cut = rng.below(data.count)
            let otherCut = rng.below(other.count)
            data = Array(other[..<otherCut]) + Array(data[cut...])
        }
    }

    private func insertRandom(_ data: inout [UInt8], rng: inout FuzzRandom) {
        let n = rng.smallCount(max: 8)
        let at = rng.below(data.count + 1)
        data.insert(contentsOf: (0..<n).map { _ in rng.byte() }, at: at)
    }

    static let interesting32: [UInt32] = [0, 1, 2, 3, 4, 7, 8, 16, 31, 32, 33, 64, 100, 127, 128, 255, 256, 512,
                                          1000, 1024, 4096, 65535, 65536, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFE,
                                          0xFFFF_FFFF]
}

extension Array where Element == UInt8 {
    init(text: String) { self = Array(text.utf8) }
}

/// `[UInt8]` from string literals, for dictionaries.
func tokens(_ texts: [String]) -> [[UInt8]] { texts.map { Array($0.utf8) } }
