/// Compact JSON serialization.
public enum JSONWriter {
    /// Compact serialization (no whitespace), object members in stored order.
    ///
    /// Strings are escaped as `\"` `\\` `\n` `\r` `\t` `\b` `\f`, other U+0000–U+001F as lowercase
    /// `\u00xx`, everything else literal UTF-8. Numbers are written as their text; a `.number` whose
    /// text is not a valid JSON number (only possible for hand-built values) is written as `null`, so
    /// the output is always valid JSON — one bad value must not fail a whole Postgres batch.
    public static func serialize(_ value: JSONValue) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        serialize(value, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the compact serialization of `value` to `out`.
    public static func serialize(_ value: JSONValue, into out: inout [UInt8]) {
        switch value {
        case .null:
            appendLiteral("null", to: &out)
        case .bool(let b):
            appendLiteral(b ? "true" : "false", to: &out)
        case .number(let text):
            if JSONNumber.isValid(text) { out.append(contentsOf: text.utf8) } else { appendLiteral("null", to: &out) }
        case .string(let s):
            appendString(s, to: &out)
        case .array(let elements):
            out.append(ASCII.openBracket)
            var first = true
            for element in elements {
                if !first { out.append(ASCII.comma) }
                first = false
                serialize(element, into: &out)
            }
            out.append(ASCII.closeBracket)
        case .object(let object):
            out.append(ASCII.openBrace)
            var first = true
            for member in object.members {
                if !first { out.append(ASCII.comma) }
                first = false
                appendString(member.key, to: &out)
                out.append(ASCII.colon)
                serialize(member.value, into: &out)
            }
            out.append(ASCII.closeBrace)
        }
    }

    /// Appends a JSON string literal (with quotes) for `s`.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        // Native Swift strings are always contiguous UTF-8; the copy is for exotic (bridged) ones.
        if s.utf8.withContiguousStorageIfAvailable({ appendString(utf8: $0, to: &out) }) == nil {
            Array(s.utf8).withUnsafeBufferPointer { appendString(utf8: $0, to: &out) }
        }
    }

    /// Appends a JSON string literal for well-formed UTF-8 bytes, copying unescaped runs in one go
    /// (found eight bytes at a time: most strings need no escaping at all).
    static func appendString(utf8 bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(ASCII.quote)
        guard let p = bytes.baseAddress else { out.append(ASCII.quote); return }
        let end = bytes.count
        var run = 0
        var i = 0
        while true {
            while i + 8 <= end && !ASCII.hasStringSpecial(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) {
                i += 8
            }
            while i < end {
                let c = p[i]
                if c < 0x20 || c == ASCII.quote || c == ASCII.backslash { break }
                i += 1
            }
            if i > run { out.append(contentsOf: UnsafeBufferPointer(start: p + run, count: i - run)) }
            guard i < end else { break }
            appendEscape(p[i], to: &out)
            i += 1
            run = i
        }
        out.append(ASCII.quote)
    }

    private static func appendEscape(_ c: UInt8, to out: inout [UInt8]) {
        out.append(ASCII.backslash)
        switch c {
        case ASCII.quote: out.append(ASCII.quote)
        case ASCII.backslash: out.append(ASCII.backslash)
        case ASCII.newline: out.append(0x6E)        // n
        case ASCII.carriageReturn: out.append(0x72) // r
        case ASCII.tab: out.append(0x74)            // t
        case 0x08: out.append(0x62)                 // b
        case 0x0C: out.append(0x66)                 // f
        default:
            let hex: StaticString = "0123456789abcdef"
            out.append(0x75); out.append(ASCII.zero); out.append(ASCII.zero)
            out.append(hex.utf8Start[Int(c >> 4)])
            out.append(hex.utf8Start[Int(c & 0xF)])
        }
    }

    @inline(__always)
    private static func appendLiteral(_ text: StaticString, to out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }
}
