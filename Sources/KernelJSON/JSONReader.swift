/// The single implementation of the RFC 8259 grammar: an iterative (no recursion, so hostile nesting
/// cannot overflow the stack) single pass over raw bytes that reports what it reads to a `JSONSink`.
///
/// Open containers are tracked in a caller-provided bit stack (1 = object, 0 = array), one bit per
/// level, so reading allocates nothing beyond what the sink does.
struct JSONReader<Sink: JSONSink> {
    let p: UnsafePointer<UInt8>
    let end: Int
    var pos: Int
    var sink: Sink

    init(_ p: UnsafePointer<UInt8>, end: Int, pos: Int = 0, sink: Sink) {
        self.p = p
        self.end = end
        self.pos = pos
        self.sink = sink
    }

    /// Words of bit stack needed to read `count` bytes with `maxDepth`: depth can never exceed the
    /// number of bytes, which also keeps a huge `maxDepth` from requesting a huge buffer.
    static func stackWords(maxDepth: Int, count: Int) -> Int {
        max(0, min(maxDepth, count)) / 64 + 1
    }

    /// Reads exactly one value, surrounded by optional whitespace, up to the end of input.
    mutating func readDocument(maxDepth: Int, stack: UnsafeMutablePointer<UInt64>) throws(JSONError) -> Sink.Value {
        let value = try readValue(maxDepth: maxDepth, stack: stack)
        skipWhitespace()
        guard pos == end else { throw JSONError(.trailingData, at: pos) }
        return value
    }

    /// Reads one value (after optional whitespace) and leaves `pos` just past it.
    mutating func readValue(maxDepth: Int, stack: UnsafeMutablePointer<UInt64>) throws(JSONError) -> Sink.Value {
        var depth = 0
        var value: Sink.Value
        skipWhitespace()
        while true {
            // A value starts at `pos`.
            guard pos < end else { throw JSONError(.unexpectedEnd, at: pos) }
            switch p[pos] {
            case ASCII.openBrace:
                guard depth < maxDepth else { throw JSONError(.tooDeep, at: pos) }
                pos += 1
                skipWhitespace()
                if pos < end && p[pos] == ASCII.closeBrace {
                    pos += 1
                    value = sink.emptyObject()
                } else {
                    push(object: true, depth: depth, stack: stack)
                    depth += 1
                    sink.beginObject()
                    try readKey()
                    continue
                }
            case ASCII.openBracket:
                guard depth < maxDepth else { throw JSONError(.tooDeep, at: pos) }
                pos += 1
                skipWhitespace()
                if pos < end && p[pos] == ASCII.closeBracket {
                    pos += 1
                    value = sink.emptyArray()
                } else {
                    push(object: false, depth: depth, stack: stack)
                    depth += 1
                    sink.beginArray()
                    continue
                }
            case ASCII.quote:
                pos += 1
                let start = pos
                let flags = try scanString()
                value = sink.string(p, start, pos - 1, flags)
            case 0x74: // t
                try literal("true")
                value = sink.bool(true)
            case 0x66: // f
                try literal("false")
                value = sink.bool(false)
            case 0x6E: // n
                try literal("null")
                value = sink.null()
            case ASCII.minus, ASCII.zero...ASCII.nine:
                let start = pos
                let r = JSONNumber.scan(p, from: pos, end: end)
                guard r.ok else { throw JSONError(.invalidNumber, at: r.end) }
                pos = r.end
                value = sink.number(p, start, pos)
            default:
                throw JSONError(.unexpectedByte, at: pos)
            }

            // A value is complete: hand it to its container, closing containers as they end.
            while true {
                if depth == 0 { return value }
                sink.element(value)
                skipWhitespace()
                guard pos < end else { throw JSONError(.unexpectedEnd, at: pos) }
                let isObject = isObjectLevel(depth - 1, stack: stack)
                let c = p[pos]
                if c == ASCII.comma {
                    pos += 1
                    skipWhitespace()
                    if isObject { try readKey() }
                    break
                }
                guard c == (isObject ? ASCII.closeBrace : ASCII.closeBracket) else {
                    throw JSONError(.unexpectedByte, at: pos)
                }
                pos += 1
                depth -= 1
                value = isObject ? sink.endObject() : sink.endArray()
            }
        }
    }

    @inline(__always)
    private func push(object: Bool, depth: Int, stack: UnsafeMutablePointer<UInt64>) {
        let bit: UInt64 = 1 << UInt64(depth & 63)
        if object { stack[depth >> 6] |= bit } else { stack[depth >> 6] &= ~bit }
    }

    @inline(__always)
    private func isObjectLevel(_ level: Int, stack: UnsafeMutablePointer<UInt64>) -> Bool {
        stack[level >> 6] & (1 << UInt64(level & 63)) != 0
    }

    /// Reads `"key"` `:` and the whitespace after, at `pos`.
    @inline(__always)
    mutating func readKey() throws(JSONError) {
        guard pos < end else { throw JSONError(.unexpectedEnd, at: pos) }
        guard p[pos] == ASCII.quote else { throw JSONError(.unexpectedByte, at: pos) }
        pos += 1
        let start = pos
        let flags = try scanString()
        sink.key(p, start, pos - 1, flags)
        skipWhitespace()
        guard pos < end else { throw JSONError(.unexpectedEnd, at: pos) }
        guard p[pos] == ASCII.colon else { throw JSONError(.unexpectedByte, at: pos) }
        pos += 1
        skipWhitespace()
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < end && ASCII.isWhitespace(p[pos]) { pos += 1 }
    }

    private mutating func literal(_ text: StaticString) throws(JSONError) {
        let s = text.utf8Start
        for i in 0..<text.utf8CodeUnitCount {
            guard pos < end else { throw JSONError(.unexpectedEnd, at: pos) }
            guard p[pos] == s[i] else { throw JSONError(.unexpectedByte, at: pos) }
            pos += 1
        }
    }

    /// Scans string content from `pos` (just past the opening quote) to just past the closing quote,
    /// checking escapes and rejecting raw control characters. Eight bytes at a time while none of
    /// them is `"`, `\` or below 0x20 (the usual case for ids, symbols and timestamps).
    @inline(__always)
    mutating func scanString() throws(JSONError) -> StringFlags {
        let highs: UInt64 = 0x8080_8080_8080_8080
        var high: UInt64 = 0
        var hasEscape = false
        while true {
            while pos + 8 <= end {
                let w = UnsafeRawPointer(p + pos).loadUnaligned(as: UInt64.self)
                if ASCII.hasStringSpecial(w) { break }
                high |= w
                pos += 8
            }
            while pos < end {
                let c = p[pos]
                if c == ASCII.quote || c == ASCII.backslash || c < 0x20 { break }
                high |= UInt64(c)
                pos += 1
            }
            guard pos < end else { throw JSONError(.unexpectedEnd, at: pos) }
            let c = p[pos]
            if c == ASCII.quote {
                pos += 1
                return StringFlags(hasEscape: hasEscape, hasHighByte: high & highs != 0)
            }
            if c != ASCII.backslash { throw JSONError(.invalidString, at: pos) }
            hasEscape = true
            guard pos + 1 < end else { throw JSONError(.unexpectedEnd, at: pos + 1) }
            switch p[pos + 1] {
            case ASCII.quote, ASCII.backslash, ASCII.slash, 0x62, 0x66, 0x6E, 0x72, 0x74: // " \ / b f n r t
                pos += 2
            case 0x75: // u
                for i in 2...5 {
                    guard pos + i < end else { throw JSONError(.unexpectedEnd, at: pos + i) }
                    guard ASCII.hexValue(p[pos + i]) != nil else { throw JSONError(.invalidEscape, at: pos + i) }
                }
                pos += 6
            default:
                throw JSONError(.invalidEscape, at: pos + 1)
            }
        }
    }
}
