/// What `JSONReader` does with what it reads. The grammar lives once, in the reader; the tree builder
/// and the validating no-op sink plug into it, so `parse` and `validate` accept exactly the same inputs.
///
/// Ranges are `p[start..<end]` of the input; for strings and keys they exclude the quotes.
protocol JSONSink {
    associatedtype Value
    mutating func null() -> Value
    mutating func bool(_ b: Bool) -> Value
    mutating func number(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Value
    mutating func string(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: StringFlags) -> Value
    mutating func emptyObject() -> Value
    mutating func emptyArray() -> Value
    mutating func beginObject()
    mutating func beginArray()
    mutating func key(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: StringFlags)
    /// The value just read belongs to the innermost open container.
    mutating func element(_ value: Value)
    mutating func endObject() -> Value
    mutating func endArray() -> Value
}

/// What the string scanner learned, so builders can take the fast path.
struct StringFlags {
    /// At least one backslash escape.
    var hasEscape: Bool
    /// At least one byte >= 0x80 (so UTF-8 must be checked before trusting the bytes).
    var hasHighByte: Bool
}

/// Builds nothing: used by `JSONScanner.validate` and to skip values in `JSONScanner.field`.
struct SkipSink: JSONSink {
    typealias Value = Void
    @inline(__always) mutating func null() {}
    @inline(__always) mutating func bool(_ b: Bool) {}
    @inline(__always) mutating func number(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) {}
    @inline(__always) mutating func string(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: StringFlags) {}
    @inline(__always) mutating func emptyObject() {}
    @inline(__always) mutating func emptyArray() {}
    @inline(__always) mutating func beginObject() {}
    @inline(__always) mutating func beginArray() {}
    @inline(__always) mutating func key(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: StringFlags) {}
    @inline(__always) mutating func element(_ value: Void) {}
    @inline(__always) mutating func endObject() {}
    @inline(__always) mutating func endArray() {}
}
