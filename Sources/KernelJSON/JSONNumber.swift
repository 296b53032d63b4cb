/// The RFC 8259 number grammar, shared by the parser, the scanner and the writer.
public enum JSONNumber {
    /// True if `text` is a JSON number: `-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?`, nothing else
    /// (no surrounding whitespace, no `+`, no `NaN`/`Infinity`).
    public static func isValid<S: StringProtocol>(_ text: S) -> Bool {
        if let ok = text.utf8.withContiguousStorageIfAvailable({ isValid($0) }) { return ok }
        return Array(text.utf8).withUnsafeBufferPointer { isValid($0) }
    }

    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
        let r = scan(base, from: 0, end: bytes.count)
        return r.ok && r.end == bytes.count
    }

    /// Scans the longest number starting at `start`. On success `end` is just past it; on failure
    /// `end` is the offset of the offending byte (or of the end of input).
    @inline(__always)
    static func scan(_ p: UnsafePointer<UInt8>, from start: Int, end: Int) -> (end: Int, ok: Bool) {
        var i = start
        if i < end && p[i] == ASCII.minus { i += 1 }
        guard i < end else { return (i, false) }
        let first = p[i]
        if first == ASCII.zero {
            i += 1
            // RFC 8259 forbids leading zeros: "01" is not two tokens, it is a bad number.
            if i < end && ASCII.isDigit(p[i]) { return (i, false) }
        } else if ASCII.isDigit(first) {
            i += 1
            while i < end && ASCII.isDigit(p[i]) { i += 1 }
        } else {
            return (i, false)
        }
        if i < end && p[i] == ASCII.dot {
            i += 1
            guard i < end && ASCII.isDigit(p[i]) else { return (i, false) }
            while i < end && ASCII.isDigit(p[i]) { i += 1 }
        }
        if i < end && (p[i] == ASCII.lowerE || p[i] == ASCII.upperE) {
            i += 1
            if i < end && (p[i] == ASCII.plus || p[i] == ASCII.minus) { i += 1 }
            guard i < end && ASCII.isDigit(p[i]) else { return (i, false) }
            while i < end && ASCII.isDigit(p[i]) { i += 1 }
        }
        return (i, true)
    }
}
