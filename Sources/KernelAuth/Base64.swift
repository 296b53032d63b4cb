/// The two base64 dialects the auth code meets, decoded strictly.
///
/// - Tokens use base64url without padding (RFC 7515 §2, "Base64url Encoding"), and nothing else:
///   `=`, `+` and `/` are refused, so each token has exactly one spelling.
/// - Key material in the config (`auth.private_key`, `auth.public_keys`) and inside OpenSSH files
///   uses the standard alphabet, padded or not.
///
/// Both decoders refuse non-zero trailing bits, so a decoded value has exactly one encoding
/// (a flipped low bit in the last character must not yield the same bytes).
enum Base64 {
    private static let standardAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// base64url, no padding.
    static func urlEncode(_ bytes: [UInt8]) -> String {
        String(decoding: encode(bytes, alphabet: urlAlphabet, pad: false), as: UTF8.self)
    }

    /// Standard alphabet, padded.
    static func standardEncode(_ bytes: [UInt8]) -> String {
        String(decoding: encode(bytes, alphabet: standardAlphabet, pad: true), as: UTF8.self)
    }

    /// Decodes unpadded base64url; nil on any other character, on padding, or on a bad length.
    static func urlDecode<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        decodeUnpadded(text) { c in
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return c &- UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return c &- UInt8(ascii: "a") &+ 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c &- UInt8(ascii: "0") &+ 52
            case UInt8(ascii: "-"): return 62
            case UInt8(ascii: "_"): return 63
            default: return nil
            }
        }
    }

    /// Decodes standard base64, padded or unpadded (padding, when present, must be complete).
    static func standardDecode(_ text: String) -> [UInt8]? {
        var bytes = Array(text.utf8)
        var padding = 0
        while bytes.last == UInt8(ascii: "=") {
            bytes.removeLast()
            padding += 1
        }
        guard padding <= 2 else { return nil }
        if padding > 0, (bytes.count + padding) % 4 != 0 { return nil }
        return decodeUnpadded(bytes, value: standardValue)
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
