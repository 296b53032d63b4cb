/// Base64 (RFC 4648), the one codec of the project, decoded strictly.
///
/// Two dialects, each with one accepted spelling per value:
/// - base64url without padding (RFC 4648 §5): tokens. `=`, `+` and `/` are refused.
/// - the standard alphabet (RFC 4648 §4): key material in the config, OpenSSH files and
///   certificates, signatures. Padding is optional, and complete when present.
///
/// Both refuse whitespace, characters of the other alphabet, a single leftover character and
/// non-zero trailing bits, so a flipped low bit in the last character never decodes to the
/// same bytes.
public enum Base64 {
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// base64url, no padding.
    public static func urlEncode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: encode(Array(bytes), alphabet: urlAlphabet, pad: false), as: UTF8.self)
    }

    /// Standard alphabet, padded.
    public static func standardEncode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        String(decoding: encode(Array(bytes), alphabet: standardAlphabet, pad: true), as: UTF8.self)
    }

    /// Decodes unpadded base64url; nil on any other character, on padding, or on a bad length.
    public static func urlDecode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        decodeUnpadded(text, value: urlValue)
    }

    /// Decodes standard base64, padded or unpadded (padding, when present, must be complete).
    public static func standardDecode(_ text: String) -> [UInt8]? {
        standardDecode(Array(text.utf8))
    }

    /// Decodes standard base64 bytes, padded or unpadded.
    public static func standardDecode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        guard let body = unpadded(Array(text)) else { return nil }
        return decodeUnpadded(body, value: standardValue)
    }

    /// The number of bytes standard base64 `text` decodes to, or nil when `decode` would refuse
    /// it; decodes nothing, so no secret is copied (the config checks key lengths this way).
    public static func standardDecodedCount(_ text: String) -> Int? {
        guard let body = unpadded(Array(text.utf8)), body.count % 4 != 1 else { return nil }
        var last: UInt8 = 0
        for c in body {
            guard let v = standardValue(c) else { return nil }
            last = v
        }
        // The bits of the last character past the last whole byte must be zero.
        switch body.count % 4 {
        case 2: guard last & 0x0F == 0 else { return nil }
        case 3: guard last & 0x03 == 0 else { return nil }
        default: break
        }
        return body.count * 3 / 4
    }

    /// `text` without its padding, or nil when the padding is longer than 2 or incomplete.
    private static func unpadded(_ text: [UInt8]) -> [UInt8]? {
        var bytes = text
        var padding = 0
        while bytes.last == UInt8(ascii: "=") {
            bytes.removeLast()
            padding += 1
        }
        guard padding <= 2 else { return nil }
        if padding > 0, (bytes.count + padding) % 4 != 0 { return nil }
        return bytes
    }

    private static func standardValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c &- UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return c &- UInt8(ascii: "a") &+ 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0") &+ 52
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    private static func urlValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "-"): return 62
        case UInt8(ascii: "_"): return 63
        case UInt8(ascii: "+"), UInt8(ascii: "/"): return nil
        default: return standardValue(c)
        }
    }

    private static func decodeUnpadded<C: Collection>(_ text: C, value: (UInt8) -> UInt8?) -> [UInt8]?
    where C.Element == UInt8 {
        let count = text.count
        // A single leftover character carries only 6 bits: never a whole byte.
        guard count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for c in text {
            guard let v = value(c) else { return nil }
            accumulator = accumulator << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits must be zero: the canonical encoding only.
        guard accumulator == 0 else { return nil }
        return out
    }

    private static func encode(_ bytes: [UInt8], alphabet: [UInt8], pad: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            out.append(alphabet[Int(n & 63)])
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            if pad { out.append(contentsOf: [UInt8(ascii: "="), UInt8(ascii: "=")]) }
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            out.append(alphabet[Int(n >> 6 & 63)])
            if pad { out.append(UInt8(ascii: "=")) }
        }
        return out
    }
}
