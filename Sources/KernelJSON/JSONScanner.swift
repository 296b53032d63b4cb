#if canImport(Glibc)
import Glibc
#endif

/// Tree-free access to JSON bytes: member lookup, validation and string unescaping.
///
/// Accepts exactly what `JSONParser` accepts (both run the same `JSONReader`).
public enum JSONScanner {
    /// The kind of value found by `field`, or why none was.
    public enum Kind: Sendable {
        /// The input is well-formed but has no such member (or is not an object).
        case absent
        case null, bool, number, string, array, object
        /// The input is not well-formed (up to where it was scanned), or nests deeper than allowed.
        case error
    }

    /// Finds member `key` of the top-level object in `bytes`, allocating nothing.
    ///
    /// Returns the kind and the byte range of the value inside `bytes`: for strings the raw text
    /// between the quotes (escapes not decoded, see `unescape`), for arrays/objects including the
    /// brackets, for numbers/bools/null their literal text. The whole input is checked, so trailing
    /// garbage is `.error`. Keys compare after decoding escapes and by UTF-8 bytes (a key written
    /// `"\u0070rice"` equals `"price"`); the last duplicate wins, as in Go. Nesting is limited to 64
    /// levels like `JSONParser.parse`'s default; use `field(_:in:maxDepth:)` for another limit.
    public static func field(_ key: String, in bytes: UnsafeRawBufferPointer) -> (kind: Kind, range: Range<Int>) {
        field(key, in: bytes, maxDepth: 64)
    }

    /// `field(_:in:)` with an explicit nesting limit (the top-level object counts as one level).
    public static func field(_ key: String, in bytes: UnsafeRawBufferPointer,
                             maxDepth: Int) -> (kind: Kind, range: Range<Int>) {
        var found: (kind: Kind, range: Range<Int>) = (.absent, 0..<0)
        let ok = forEachMember(in: bytes, maxDepth: maxDepth) { p, keyRange, flags, valueRange in
            if keyMatches(p, keyRange, flags, key) { found = describe(p, valueRange) }
        }
        return ok ? found : (.error, 0..<0)
    }

    /// Several members in one pass, for pulling an envelope apart: `result[i]` is what
    /// `field(keys[i], in: bytes, maxDepth: maxDepth)` returns, at the cost of a single scan.
    /// Allocates only the result array.
    public static func fields(_ keys: [String], in bytes: UnsafeRawBufferPointer,
                              maxDepth: Int = 64) -> [(kind: Kind, range: Range<Int>)] {
        [(kind: Kind, range: Range<Int>)](unsafeUninitializedCapacity: keys.count) { buffer, count in
            for i in keys.indices { (buffer.baseAddress! + i).initialize(to: (.absent, 0..<0)) }
            count = keys.count
            fields(keys, in: bytes, maxDepth: maxDepth, into: UnsafeMutableBufferPointer(rebasing: buffer[0..<keys.count]))
        }
    }

    /// `fields(_:in:maxDepth:)` writing into `found` (`keys.count` slots) instead of returning an
    /// array: the envelope parser passes stack memory, one allocation fewer per event.
    public static func fields(_ keys: [String], in bytes: UnsafeRawBufferPointer, maxDepth: Int = 64,
                              into found: UnsafeMutableBufferPointer<(kind: Kind, range: Range<Int>)>) {
        fields(Keys(keys), in: bytes, maxDepth: maxDepth, into: found)
    }

    /// Member names prepared once for lookups on every event: their UTF-8 in one buffer, so a
    /// member's key is compared with a length check and a memcmp (the names as an array of
    /// `String` cost a retain, a release and a walk of the UTF-8 view per comparison).
    public struct Keys: Sendable {
        public let names: [String]
        let utf8: [UInt8]
        let ranges: [Range<Int>]

        public init(_ names: [String]) {
            self.names = names
            var utf8: [UInt8] = [], ranges: [Range<Int>] = []
            for name in names {
                let start = utf8.count
                utf8.append(contentsOf: name.utf8)
                ranges.append(start..<utf8.count)
            }
            self.utf8 = utf8
            self.ranges = ranges
        }

        public var count: Int { names.count }
    }

    /// `fields` with prepared names.
    public static func fields(_ keys: Keys, in bytes: UnsafeRawBufferPointer, maxDepth: Int = 64,
                              into found: UnsafeMutableBufferPointer<(kind: Kind, range: Range<Int>)>) {
        precondition(found.count >= keys.count, "one slot per key")
        for i in 0..<keys.count { found[i] = (.absent, 0..<0) }
        let ok = keys.utf8.withUnsafeBufferPointer { names in
            keys.ranges.withUnsafeBufferPointer { ranges in
                forEachMember(in: bytes, maxDepth: maxDepth) { p, keyRange, flags, valueRange in
                    for i in 0..<ranges.count
                    where rawKeyEquals(p, keyRange, flags, UnsafeBufferPointer(rebasing: names[ranges[i]])) {
                        found[i] = describe(p, valueRange)
                    }
                }
            }
        }
        if !ok { for i in 0..<keys.count { found[i] = (.error, 0..<0) } }
    }

    /// One member of a top-level object, as `members(in:maxDepth:)` finds it.
    public struct Member: Sendable {
        /// The raw key text, between its quotes (escapes not decoded).
        public var key: Range<Int>
        let keyFlags: StringFlags
        public var kind: Kind
        /// The value's range, as `field` reports it (strings: the raw text between the quotes).
        public var value: Range<Int>
    }

    /// Every member of the top-level object, in input order with duplicates kept, from one
    /// validating pass and without building values: for readers that look up a few members and
    /// decode only those. nil when the input is not well-formed, nests deeper than `maxDepth`,
    /// or is not an object.
    public static func members(in bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) -> [Member]? {
        var first = 0
        while first < bytes.count, bytes[first] == 0x20 || bytes[first] == 0x0A || bytes[first] == 0x0D || bytes[first] == 0x09 {
            first += 1
        }
        guard first < bytes.count, bytes[first] == ASCII.openBrace else { return nil }
        var out: [Member] = []
        // One allocation for a typical event payload; growing from empty took four (1, 2, 4, 8).
        out.reserveCapacity(16)
        let ok = forEachMember(in: bytes, maxDepth: maxDepth) { p, keyRange, flags, valueRange in
            let found = describe(p, valueRange)
            out.append(Member(key: keyRange, keyFlags: flags, kind: found.kind, value: found.range))
        }
        return ok ? out : nil
    }

    /// True if `member`'s key (in the `bytes` it was found in) decodes to exactly `key`'s UTF-8.
    /// The index of the last member named `key` (duplicates: the last wins, as in `JSONParser`).
    /// The key's UTF-8 is taken once and compared by length, then memcmp, member by member.
    public static func lastMember(named key: String, in members: [Member], bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let found: Int?? = key.utf8.withContiguousStorageIfAvailable { k -> Int? in
            members.withUnsafeBufferPointer { members in
                var i = members.count
                while i > 0 {
                    i -= 1
                    if members[i].key.upperBound <= bytes.count, rawKeyEquals(p, members[i].key, members[i].keyFlags, k) {
                        return i
                    }
                }
                return nil
            }
        }
        if let found { return found }
        return members.lastIndex { Self.key(of: $0, in: bytes, equals: key) }
    }

    public static func key(of member: Member, in bytes: UnsafeRawBufferPointer, equals key: String) -> Bool {
        guard let base = bytes.baseAddress, member.key.upperBound <= bytes.count else { return false }
        return keyMatches(base.assumingMemoryBound(to: UInt8.self), member.key, member.keyFlags, key)
    }

    /// The decoded text of raw JSON string text `bytes[raw]` (a `.string` member's `value`),
    /// exactly as `JSONParser` builds it: escapes decoded, invalid UTF-8 repaired the same way.
    public static func string(_ raw: Range<Int>, in bytes: UnsafeRawBufferPointer) -> String {
        guard let base = bytes.baseAddress, !raw.isEmpty, raw.upperBound <= bytes.count else { return "" }
        let p = base.assumingMemoryBound(to: UInt8.self)
        var hasEscape = false, hasHighByte = false
        for i in raw {
            if p[i] == ASCII.backslash { hasEscape = true } else if p[i] >= 0x80 { hasHighByte = true }
        }
        if !hasEscape {
            if !hasHighByte {
                return String(decoding: UnsafeBufferPointer(start: p + raw.lowerBound, count: raw.count), as: UTF8.self)
            }
            return UTF8Repair.makeString(p, from: raw.lowerBound, to: raw.upperBound)
        }
        var scratch: [UInt8] = []
        StringEscapes.appendUnescaped(p, from: raw.lowerBound, to: raw.upperBound, into: &scratch)
        return scratch.withUnsafeBufferPointer { UTF8Repair.makeString($0.baseAddress!, from: 0, to: $0.count) }
    }

    /// Walks the members of the top-level object in `bytes`, validating the whole input. `body` gets
    /// the raw key text (between its quotes), its flags and the value's full range. Returns false if
    /// the input is not well-formed; a well-formed non-object has no members and returns true.
    private static func forEachMember(
        in bytes: UnsafeRawBufferPointer, maxDepth: Int,
        _ body: (UnsafePointer<UInt8>, Range<Int>, StringFlags, Range<Int>) -> Void
    ) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let words = JSONReader<SkipSink>.stackWords(maxDepth: maxDepth, count: bytes.count)
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { stackBuf in
            let stack = stackBuf.baseAddress!
            var r = JSONReader(p, end: bytes.count, sink: SkipSink())
            do throws(JSONError) {
                r.skipWhitespace()
                guard r.pos < r.end, r.p[r.pos] == ASCII.openBrace else {
                    try r.readDocument(maxDepth: maxDepth, stack: stack)
                    return true
                }
                guard maxDepth >= 1 else { return false }
                r.pos += 1
                r.skipWhitespace()
                if r.pos < r.end && r.p[r.pos] == ASCII.closeBrace {
                    r.pos += 1
                } else {
                    while true {
                        guard r.pos < r.end, r.p[r.pos] == ASCII.quote else { return false }
                        let keyStart = r.pos + 1
                        r.pos = keyStart
                        let flags = try r.scanString()
                        let keyEnd = r.pos - 1
                        r.skipWhitespace()
                        guard r.pos < r.end, r.p[r.pos] == ASCII.colon else { return false }
                        r.pos += 1
                        r.skipWhitespace()
                        let start = r.pos
                        try r.readValue(maxDepth: maxDepth - 1, stack: stack)
                        body(p, keyStart..<keyEnd, flags, start..<r.pos)
                        r.skipWhitespace()
                        guard r.pos < r.end else { return false }
                        if r.p[r.pos] == ASCII.comma {
                            r.pos += 1
                            r.skipWhitespace()
                            continue
                        }
                        guard r.p[r.pos] == ASCII.closeBrace else { return false }
                        r.pos += 1
                        break
                    }
                }
                r.skipWhitespace()
                return r.pos == r.end
            } catch {
                return false
            }
        }
    }

    /// Kind and reported range of the (well-formed) value at `p[start..<end]`.
    private static func describe(_ p: UnsafePointer<UInt8>, _ value: Range<Int>) -> (kind: Kind, range: Range<Int>) {
        let start = value.lowerBound, end = value.upperBound
        switch p[start] {
        case ASCII.openBrace: return (.object, start..<end)
        case ASCII.openBracket: return (.array, start..<end)
        case ASCII.quote: return (.string, (start + 1)..<(end - 1))
        case 0x74, 0x66: return (.bool, start..<end)
        case 0x6E: return (.null, start..<end)
        default: return (.number, start..<end)
        }
    }

    /// True if the raw key text decodes to exactly the UTF-8 bytes of `key`.
    @inline(__always)
    private static func keyMatches(_ p: UnsafePointer<UInt8>, _ raw: Range<Int>, _ flags: StringFlags,
                                   _ key: String) -> Bool {
        // The key's UTF-8 in place where it is contiguous (always, for native strings): walking
        // `key.utf8` went through the view's subscript per byte.
        if let r = key.utf8.withContiguousStorageIfAvailable({ rawKeyEquals(p, raw, flags, $0) }) { return r }
        return Array(key.utf8).withUnsafeBufferPointer { rawKeyEquals(p, raw, flags, $0) }
    }

    /// Whether raw key text `p[raw]` (between its quotes, with `flags` from the scan) decodes to
    /// `key`. A plain ASCII key's bytes are its decoded form: a length check and one memcmp.
    @inline(__always)
    private static func rawKeyEquals(_ p: UnsafePointer<UInt8>, _ raw: Range<Int>, _ flags: StringFlags,
                                     _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        if flags.hasEscape || flags.hasHighByte {
            return StringEscapes.rawEquals(p, from: raw.lowerBound, to: raw.upperBound, key: key)
        }
        return raw.count == key.count && (key.isEmpty || memcmp(p + raw.lowerBound, key.baseAddress!, key.count) == 0)
    }

    /// Validates that `bytes` is exactly one well-formed JSON value (no tree built): nil if it is,
    /// else the error `JSONParser.parse` would throw for the same input and `maxDepth`.
    public static func validate(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) -> JSONError? {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return JSONError(.unexpectedEnd, at: 0) }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let words = JSONReader<SkipSink>.stackWords(maxDepth: maxDepth, count: bytes.count)
        return withUnsafeTemporaryAllocation(of: UInt64.self, capacity: words) { stack -> JSONError? in
            var reader = JSONReader(p, end: bytes.count, sink: SkipSink())
            do throws(JSONError) {
                try reader.readDocument(maxDepth: maxDepth, stack: stack.baseAddress!)
                return nil
            } catch {
                return error
            }
        }
    }

    /// A `\u` escape whose decoded text cannot be stored as written: the parser decodes both
    /// without complaint (Go's way: U+0000, and U+FFFD for a lone surrogate).
    public enum SuspectEscape: Sendable, Equatable {
        /// `\u0000`: Postgres text and jsonb cannot hold U+0000.
        case nul
        /// A high surrogate not followed by a low-surrogate escape, or a low surrogate alone
        /// (the value escaped); it encodes no character and would be stored as U+FFFD.
        case loneSurrogate(UInt16)
    }

    /// The first `\u0000` or lone-surrogate escape in `bytes`, which must be well-formed JSON (as
    /// `validate` accepts it): the offset of its backslash, and which it is. Jumps from backslash to
    /// backslash with `memchr`, so text without escapes costs one `memchr`. Every backslash of
    /// well-formed JSON starts an escape inside a string, and the scan resumes just past each
    /// escape, so an escaped backslash followed by `u0000` is not mistaken for a NUL.
    public static func firstSuspectEscape(in bytes: UnsafeRawBufferPointer) -> (offset: Int, escape: SuspectEscape)? {
        guard let base = bytes.baseAddress else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let end = bytes.count
        var i = 0
        while i < end, let hit = memchr(base + i, Int32(ASCII.backslash), end - i) {
            let j = base.distance(to: UnsafeRawPointer(hit))
            guard j + 1 < end else { return nil }
            guard p[j + 1] == 0x75, j + 6 <= end, let v = hex4(p, j + 2) else { // not \u
                i = j + 2
                continue
            }
            if v == 0 { return (j, .nul) }
            if v >= 0xD800 && v < 0xDC00 {
                if j + 12 <= end, p[j + 6] == ASCII.backslash, p[j + 7] == 0x75, let low = hex4(p, j + 8),
                   low >= 0xDC00 && low < 0xE000 {
                    i = j + 12
                    continue
                }
                return (j, .loneSurrogate(UInt16(v)))
            }
            if v >= 0xDC00 && v < 0xE000 { return (j, .loneSurrogate(UInt16(v))) }
            i = j + 6
        }
        return nil
    }

    /// The value of four hex digits at `p[i]`, or nil.
    @inline(__always)
    private static func hex4(_ p: UnsafePointer<UInt8>, _ i: Int) -> UInt32? {
        guard let a = ASCII.hexValue(p[i]), let b = ASCII.hexValue(p[i + 1]),
              let c = ASCII.hexValue(p[i + 2]), let d = ASCII.hexValue(p[i + 3]) else { return nil }
        return a << 12 | b << 8 | c << 4 | d
    }

    /// Decodes the raw text of a JSON string (the bytes between the quotes) into UTF-8, exactly as the
    /// parser would (escapes resolved, invalid UTF-8 and lone surrogates as U+FFFD); nil if malformed
    /// (bad escape, raw control character, unescaped quote).
    public static func unescape(_ raw: UnsafeRawBufferPointer) -> [UInt8]? {
        guard let base = raw.baseAddress, raw.count > 0 else { return [] }
        let p = base.assumingMemoryBound(to: UInt8.self)
        // Validate with the reader's own string scanner: it must stop exactly at the end.
        var reader = JSONReader(p, end: raw.count, sink: SkipSink())
        do throws(JSONError) {
            _ = try reader.scanString()
            return nil // the scanner found an unescaped quote inside the raw text
        } catch {
            // Well-formed raw text runs the scanner off the end between escapes, never inside one.
            guard error.reason == .unexpectedEnd, reader.pos == raw.count else { return nil }
        }
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        StringEscapes.appendUnescaped(p, from: 0, to: raw.count, into: &out)
        if out.withUnsafeBufferPointer({ UTF8Repair.isValid($0.baseAddress!, from: 0, to: $0.count) }) { return out }
        var repaired: [UInt8] = []
        repaired.reserveCapacity(out.count + 8)
        out.withUnsafeBufferPointer { UTF8Repair.appendRepaired($0.baseAddress!, from: 0, to: $0.count, into: &repaired) }
        return repaired
    }
}
