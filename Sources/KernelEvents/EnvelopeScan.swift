import KernelJSON

/// Byte-level helpers for `EventEnvelope.parse`: string decoding, the `tags` array walk, names for
/// error text. Everything here runs on input that `JSONScanner` has already accepted, but still
/// bounds-checks every index so a mistake cannot turn into a crash.
enum EnvelopeScan {
    @inline(__always)
    static func isWhitespace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    /// Runs `body` on the decoded UTF-8 of raw JSON string text: the raw bytes themselves when they
    /// hold no backslash (the common case, no allocation), else the unescaped copy.
    @inline(__always)
    static func withDecoded<R>(_ raw: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R?) -> R? {
        if !raw.contains(UInt8(ascii: "\\")) { return body(raw) }
        guard let decoded = JSONScanner.unescape(raw) else { return nil }
        return decoded.withUnsafeBytes { body($0) }
    }

    /// The decoded text of raw JSON string text (well-formed UTF-8: `parse` checked all of it).
    static func string(_ raw: UnsafeRawBufferPointer) -> String {
        var plain = true
        for c in raw where c == UInt8(ascii: "\\") || c >= 0x80 {
            plain = false
            break
        }
        if plain { return String(decoding: raw, as: UTF8.self) }
        return String(decoding: JSONScanner.unescape(raw) ?? [], as: UTF8.self)
    }

    /// The usable tags of the (well-formed) array at `bytes[array]`, brackets included, within
    /// `limits`. Stops at the first item over a limit, so a huge array costs no more than the
    /// limit's worth of decoding.
    static func tags(in bytes: UnsafeRawBufferPointer, array: Range<Int>,
                     limits: EnvelopeLimits) throws(EnvelopeError) -> [EnvelopeTag] {
        var tags: [EnvelopeTag] = []
        var failure: EnvelopeError?
        var index = -1
        walkItems(in: bytes, array: array) { item in
            index += 1
            guard bytes[item.lowerBound] == UInt8(ascii: "{") else { return true }
            let (key, value) = tagMembers(in: bytes, object: item)
            guard let key, let value, !key.isEmpty, !value.isEmpty else { return true }
            let keyText = string(UnsafeRawBufferPointer(rebasing: bytes[key]))
            let valueText = string(UnsafeRawBufferPointer(rebasing: bytes[value]))
            guard !keyText.isEmpty, !valueText.isEmpty else { return true }
            if keyText.utf8.count > limits.maxTagKeyBytes {
                failure = EnvelopeError(.tagKeyTooLong, detail: "tags[\(index)].key is \(keyText.utf8.count) bytes; "
                                        + "server.max_tag_key_bytes is \(limits.maxTagKeyBytes)")
                return false
            }
            if valueText.utf8.count > limits.maxTagValueBytes {
                failure = EnvelopeError(.tagValueTooLong, detail: "tags[\(index)].value is \(valueText.utf8.count) bytes; "
                                        + "server.max_tag_value_bytes is \(limits.maxTagValueBytes)")
                return false
            }
            if tags.count >= limits.maxTags {
                failure = EnvelopeError(.tooManyTags, detail: "tags holds more than \(limits.maxTags) tags (at item "
                                        + "\(index)); server.max_event_tags is \(limits.maxTags)")
                return false
            }
            if tags.isEmpty { tags.reserveCapacity(4) }
            tags.append(EnvelopeTag(key: keyText, value: valueText))
            return true
        }
        if let failure { throw failure }
        return tags
    }

    /// The raw string text of the `key` and `value` members of the (well-formed) object at
    /// `bytes[object]`; nil where absent or not a string. The last duplicate wins, as in `JSONScanner`.
    /// A direct walk rather than `JSONScanner.fields`: the input is already validated, and this
    /// runs once per tag on the hot path.
    static func tagMembers(in bytes: UnsafeRawBufferPointer,
                           object: Range<Int>) -> (key: Range<Int>?, value: Range<Int>?) {
        var key: Range<Int>?, value: Range<Int>?
        guard object.count >= 2, object.upperBound <= bytes.count else { return (nil, nil) }
        let end = object.upperBound - 1 // the closing brace
        var i = object.lowerBound + 1
        while true {
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            guard i < end, bytes[i] == UInt8(ascii: "\"") else { return (key, value) }
            let nameStart = i + 1
            i = skipValue(in: bytes, from: i, end: end)
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<max(nameStart, i - 1)])
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            guard i < end, bytes[i] == UInt8(ascii: ":") else { return (key, value) }
            i += 1
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            guard i < end else { return (key, value) }
            let valueStart = i
            i = skipValue(in: bytes, from: i, end: end)
            let text: Range<Int>? = bytes[valueStart] == UInt8(ascii: "\"") && i - valueStart >= 2
                ? (valueStart + 1)..<(i - 1) : nil
            switch memberName(name) {
            case 1: key = text
            case 2: value = text
            default: break
            }
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            if i < end, bytes[i] == UInt8(ascii: ",") { i += 1 }
        }
    }

    /// 1 if raw member name text decodes to `key`, 2 for `value`, else 0.
    private static func memberName(_ raw: UnsafeRawBufferPointer) -> Int {
        func match(_ text: UnsafeRawBufferPointer) -> Int {
            if text.count == 3, text[0] == 0x6B, text[1] == 0x65, text[2] == 0x79 { return 1 } // key
            if text.count == 5, text[0] == 0x76, text[1] == 0x61, text[2] == 0x6C, text[3] == 0x75,
               text[4] == 0x65 { return 2 } // value
            return 0
        }
        return withDecoded(raw) { match($0) } ?? 0
    }

    /// Calls `body` with the range of each element of the array at `bytes[array]`.
    static func forEachItem(in bytes: UnsafeRawBufferPointer, array: Range<Int>, _ body: (Range<Int>) -> Void) {
        walkItems(in: bytes, array: array) { item in
            body(item)
            return true
        }
    }

    /// `forEachItem` until `body` returns false.
    static func walkItems(in bytes: UnsafeRawBufferPointer, array: Range<Int>, _ body: (Range<Int>) -> Bool) {
        guard array.count >= 2, array.upperBound <= bytes.count else { return }
        let end = array.upperBound - 1 // the closing bracket
        var i = array.lowerBound + 1
        while true {
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            guard i < end else { return }
            let start = i
            i = skipValue(in: bytes, from: i, end: end)
            guard body(start..<i) else { return }
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            if i < end, bytes[i] == UInt8(ascii: ",") { i += 1 }
        }
    }

    /// Calls `body` with the raw name text (between its quotes) and the value range of each member
    /// of the (well-formed) object at `bytes[object]`, until it returns false.
    static func walkMembers(in bytes: UnsafeRawBufferPointer, object: Range<Int>,
                            _ body: (_ name: Range<Int>, _ value: Range<Int>) -> Bool) {
        guard object.count >= 2, object.upperBound <= bytes.count else { return }
        let end = object.upperBound - 1 // the closing brace
        var i = object.lowerBound + 1
        while true {
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            guard i < end, bytes[i] == UInt8(ascii: "\"") else { return }
            let nameStart = i + 1
            i = skipValue(in: bytes, from: i, end: end)
            let name = nameStart..<max(nameStart, i - 1)
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            guard i < end, bytes[i] == UInt8(ascii: ":") else { return }
            i += 1
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            guard i < end else { return }
            let valueStart = i
            i = skipValue(in: bytes, from: i, end: end)
            guard body(name, valueStart..<i) else { return }
            while i < end, isWhitespace(bytes[i]) { i += 1 }
            if i < end, bytes[i] == UInt8(ascii: ",") { i += 1 }
        }
    }

    /// How long a `location` may get before it is cut (`…`): refusal details stay short.
    static let maxLocationBytes = 64

    /// Where byte `offset` of the (well-formed) event lies, for refusal details: the path of the
    /// value holding it (`payload.legs[1].px`, `tags[0].key`, `event_id`) or `a member name in …`.
    /// Member names are shown as printable ASCII (other bytes as `?`) and escapes as written.
    /// Runs only on the refusal path.
    static func location(of offset: Int, in bytes: UnsafeRawBufferPointer) -> String {
        var first = 0
        while first < bytes.count, isWhitespace(bytes[first]) { first += 1 }
        guard first < bytes.count else { return "the event" }
        var path: [UInt8] = []
        var value = first..<skipValue(in: bytes, from: first, end: bytes.count)
        var inName = false
        descend: while value.count >= 2, !inName {
            var next: Range<Int>?
            switch bytes[value.lowerBound] {
            case UInt8(ascii: "{"):
                walkMembers(in: bytes, object: value) { name, member in
                    if (name.lowerBound - 1)...name.upperBound ~= offset {
                        inName = true
                        return false
                    }
                    guard member.contains(offset) else { return true }
                    if !path.isEmpty { path.append(UInt8(ascii: ".")) }
                    for c in bytes[name] { path.append(c >= 0x20 && c < 0x7F ? c : UInt8(ascii: "?")) }
                    next = member
                    return false
                }
            case UInt8(ascii: "["):
                var index = 0
                walkItems(in: bytes, array: value) { item in
                    guard item.contains(offset) else {
                        index += 1
                        return true
                    }
                    path.append(contentsOf: "[\(index)]".utf8)
                    next = item
                    return false
                }
            default:
                break descend
            }
            guard let next, path.count <= maxLocationBytes else { break }
            value = next
        }
        var text = path.isEmpty ? "the event" : String(decoding: path.prefix(maxLocationBytes), as: UTF8.self)
        if path.count > maxLocationBytes { text += "…" }
        return inName ? "a member name in \(text)" : text
    }

    /// The index just past the (well-formed) value starting at `bytes[start]`, at most `end`, and
    /// always past `start` when `start < end` so callers' loops make progress whatever the bytes.
    static func skipValue(in bytes: UnsafeRawBufferPointer, from start: Int, end: Int) -> Int {
        var i = start
        var depth = 0
        var inString = false
        scan: while i < end {
            let c = bytes[i]
            if inString {
                if c == UInt8(ascii: "\\") {
                    i += 2
                    continue
                }
                i += 1
                if c == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { break scan }
                }
                continue
            }
            switch c {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                if depth <= 0 {
                    i += 1
                    break scan
                }
            case UInt8(ascii: ","): if depth == 0 { break scan }
            default: if depth == 0 && isWhitespace(c) { break scan }
            }
            i += 1
        }
        return max(min(i, end), min(start + 1, end))
    }

    static func name(_ kind: JSONScanner.Kind) -> String {
        switch kind {
        case .absent: return "nothing"
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        case .error: return "malformed JSON"
        }
    }

    /// What a well-formed value starting with byte `c` is.
    static func kindName(of c: UInt8) -> String {
        switch c {
        case UInt8(ascii: "["): return "an array"
        case UInt8(ascii: "\""): return "a string"
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return "a boolean"
        case UInt8(ascii: "n"): return "null"
        default: return "a number"
        }
    }
}
