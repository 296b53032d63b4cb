/// Decoding of backslash escapes in the raw text of a JSON string (the bytes between the quotes).
///
/// Every function here assumes the raw text was already accepted by `JSONReader.scanString` (all
/// escapes complete and legal), so it never re-checks bounds of an escape.
enum StringEscapes {
    /// Decodes the escape starting at `p[i]` (a backslash). Returns the scalar value and the index just
    /// past the escape. A `\uXXXX` high surrogate followed by a `\uXXXX` low surrogate combine; any
    /// other surrogate becomes U+FFFD and the following escape is decoded on its own (Go's behaviour).
    @inline(__always)
    static func decode(_ p: UnsafePointer<UInt8>, at i: Int, end: Int) -> (scalar: UInt32, next: Int) {
        switch p[i + 1] {
        case 0x62: return (0x08, i + 2) // b
        case 0x66: return (0x0C, i + 2) // f
        case 0x6E: return (0x0A, i + 2) // n
        case 0x72: return (0x0D, i + 2) // r
        case 0x74: return (0x09, i + 2) // t
        case 0x75: // u
            let v = hex4(p, i + 2)
            if v >= 0xD800 && v < 0xDC00, i + 12 <= end, p[i + 6] == ASCII.backslash, p[i + 7] == 0x75 {
                let low = hex4(p, i + 8)
                if low >= 0xDC00 && low < 0xE000 {
                    return (0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00), i + 12)
                }
            }
            if v >= 0xD800 && v < 0xE000 { return (0xFFFD, i + 6) }
            return (v, i + 6)
        default: // " \ /
            return (UInt32(p[i + 1]), i + 2)
        }
    }

    @inline(__always)
    static func hex4(_ p: UnsafePointer<UInt8>, _ i: Int) -> UInt32 {
        (ASCII.hexValue(p[i])! << 12) | (ASCII.hexValue(p[i + 1])! << 8)
            | (ASCII.hexValue(p[i + 2])! << 4) | ASCII.hexValue(p[i + 3])!
    }

    /// Appends the decoded bytes of `p[start..<end]` (escapes resolved, other bytes copied as they are;
    /// UTF-8 repair is the caller's job).
    static func appendUnescaped(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int, into out: inout [UInt8]) {
        var i = start
        var run = start
        while i < end {
            if p[i] != ASCII.backslash { i += 1; continue }
            if i > run { out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: i - run)) }
            let (scalar, next) = decode(p, at: i, end: end)
            UTF8Repair.appendScalar(scalar, into: &out)
            i = next
            run = next
        }
        if end > run { out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: end - run)) }
    }

    /// True if the raw JSON string text `p[start..<end]` decodes (escapes resolved, invalid UTF-8
    /// repaired exactly as the parser does) to the scalars of the well-formed UTF-8 `key`.
    /// Allocation-free: both sides are decoded one scalar at a time.
    static func rawEquals(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int,
                          key: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let k = key.baseAddress else { return rawIsEmpty(p, start, end) }
        var i = start
        var j = 0
        let kEnd = key.count
        while i < end {
            let a: UInt32
            if p[i] == ASCII.backslash {
                let d = decode(p, at: i, end: end)
                a = d.scalar
                i = d.next
            } else {
                let n = UTF8Repair.sequenceLength(p, i, end)
                if n == 0 {
                    a = 0xFFFD
                    i += 1
                } else {
                    a = scalarValue(p, i, n)
                    i += n
                }
            }
            guard j < kEnd else { return false }
            let n = UTF8Repair.sequenceLength(k, j, kEnd)
            guard n > 0, scalarValue(k, j, n) == a else { return false }
            j += n
        }
        return j == kEnd
    }

    @inline(__always)
    private static func rawIsEmpty(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        start == end
    }

    /// The scalar of a well-formed `n`-byte sequence at `p[i]`.
    @inline(__always)
    static func scalarValue(_ p: UnsafePointer<UInt8>, _ i: Int, _ n: Int) -> UInt32 {
        let b0 = UInt32(p[i])
        switch n {
        case 1: return b0
        case 2: return (b0 & 0x1F) << 6 | UInt32(p[i + 1] & 0x3F)
        case 3: return (b0 & 0x0F) << 12 | UInt32(p[i + 1] & 0x3F) << 6 | UInt32(p[i + 2] & 0x3F)
        default:
            return (b0 & 0x07) << 18 | UInt32(p[i + 1] & 0x3F) << 12
                | UInt32(p[i + 2] & 0x3F) << 6 | UInt32(p[i + 3] & 0x3F)
        }
    }
}
