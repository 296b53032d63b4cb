/// UTF-8 well-formedness and repair, matching Go's `encoding/json`: every byte that does not start a
/// well-formed sequence becomes one U+FFFD (Go decodes with `utf8.DecodeRune`, width 1 on error).
/// Swift's `String(decoding:)` instead replaces each *maximal subpart* with one U+FFFD, so it would
/// disagree with Go-produced canonical JSON on the (rare) invalid inputs; we repair ourselves.
enum UTF8Repair {
    static let replacement: (UInt8, UInt8, UInt8) = (0xEF, 0xBF, 0xBD)

    /// Length (1–4) of the well-formed sequence starting at `p[i]`, or 0 if it is ill-formed
    /// (Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF, no truncation).
    @inline(__always)
    static func sequenceLength(_ p: UnsafePointer<UInt8>, _ i: Int, _ end: Int) -> Int {
        let b0 = p[i]
        if b0 < 0x80 { return 1 }
        if b0 < 0xC2 { return 0 }
        if b0 < 0xE0 { return i + 1 < end && isContinuation(p[i + 1]) ? 2 : 0 }
        if b0 < 0xF0 {
            guard i + 2 < end else { return 0 }
            let lo: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80
            let hi: UInt8 = b0 == 0xED ? 0x9F : 0xBF
            let b1 = p[i + 1]
            return b1 >= lo && b1 <= hi && isContinuation(p[i + 2]) ? 3 : 0
        }
        if b0 < 0xF5 {
            guard i + 3 < end else { return 0 }
            let lo: UInt8 = b0 == 0xF0 ? 0x90 : 0x80
            let hi: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF
            let b1 = p[i + 1]
            return b1 >= lo && b1 <= hi && isContinuation(p[i + 2]) && isContinuation(p[i + 3]) ? 4 : 0
        }
        return 0
    }

    @inline(__always)
    static func isContinuation(_ b: UInt8) -> Bool { b & 0xC0 == 0x80 }

    /// True if `p[start..<end]` is well-formed UTF-8.
    static func isValid(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Bool {
        var i = start
        while i < end {
            if p[i] < 0x80 { i += 1; continue }
            let n = sequenceLength(p, i, end)
            if n == 0 { return false }
            i += n
        }
        return true
    }

    /// A String from bytes that may hold invalid UTF-8: one U+FFFD per offending byte.
    static func makeString(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int) -> String {
        if isValid(p, from: start, to: end) {
            return String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(end - start + 8)
        appendRepaired(p, from: start, to: end, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `p[start..<end]` with every ill-formed byte replaced by U+FFFD.
    static func appendRepaired(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int, into out: inout [UInt8]) {
        var i = start
        while i < end {
            let n = sequenceLength(p, i, end)
            if n == 0 {
                out.append(replacement.0); out.append(replacement.1); out.append(replacement.2)
                i += 1
            } else {
                for k in 0..<n { out.append(p[i + k]) }
                i += n
            }
        }
    }

    /// Appends the UTF-8 encoding of a scalar value (caller guarantees it is a valid scalar).
    @inline(__always)
    static func appendScalar(_ v: UInt32, into out: inout [UInt8]) {
        switch v {
        case 0..<0x80:
            out.append(UInt8(v))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | (v >> 6)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | (v >> 12)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        default:
            out.append(UInt8(0xF0 | (v >> 18)))
            out.append(UInt8(0x80 | ((v >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((v >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (v & 0x3F)))
        }
    }
}

/// Well-formed UTF-8 to `String`, without the generic `String(validating:as:)` (whose unspecialized
/// path looked up generic metadata on every call: 8 % of the plugin host's time).
public enum UTF8Text {
    /// The text, or nil when `bytes` is not well-formed UTF-8.
    public static func string(validating bytes: UnsafeRawBufferPointer) -> String? {
        guard let base = bytes.baseAddress else { return "" }
        let p = base.assumingMemoryBound(to: UInt8.self)
        guard UTF8Repair.isValid(p, from: 0, to: bytes.count) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: p, count: bytes.count), as: UTF8.self)
    }

    /// The offset of the first byte of `bytes` that is not part of a well-formed UTF-8 sequence
    /// (Unicode Table 3-7, as `UTF8Repair.sequenceLength`), or nil when all of it is well-formed.
    /// For refusing text instead of repairing it. Runs on every event the processor checks, and
    /// event JSON is nearly all ASCII: eight ASCII bytes are cleared per step, and only the bytes
    /// of a multi-byte sequence are looked at one by one.
    public static func firstInvalidOffset(in bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let end = bytes.count
        var i = 0
        while i < end {
            while i &+ 8 <= end {
                if (base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
                i &+= 8
            }
            // The word held a byte above ASCII (or the tail is short): up to it byte by byte, then
            // sequence by sequence through the run of non-ASCII text, where word tests would fail.
            while i < end, p[i] < 0x80 { i &+= 1 }
            while i < end, p[i] >= 0x80 {
                let n = UTF8Repair.sequenceLength(p, i, end)
                if n == 0 { return i }
                i &+= n
            }
        }
        return nil
    }
}
