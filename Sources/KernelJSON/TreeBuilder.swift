/// Builds a `JSONValue` tree. Finished children wait on one shared `SlotStack` until their
/// container closes, so each container costs exactly one array allocation.
struct TreeBuilder: JSONSink {
    typealias Value = JSONValue

    private let stack = SlotStack()
    /// Reused buffer for strings with escapes.
    private var scratch: [UInt8] = []

    @inline(__always) mutating func null() -> JSONValue { .null }
    @inline(__always) mutating func bool(_ b: Bool) -> JSONValue { .bool(b) }

    @inline(__always)
    mutating func number(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> JSONValue {
        // Numbers are ASCII by grammar.
        .number(String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self))
    }

    @inline(__always)
    mutating func string(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: StringFlags) -> JSONValue {
        .string(makeString(p, start, end, flags))
    }

    @inline(__always) mutating func emptyObject() -> JSONValue { .object(JSONObject()) }
    @inline(__always) mutating func emptyArray() -> JSONValue { .array([]) }
    @inline(__always) mutating func beginObject() { stack.beginContainer(isObject: true) }
    @inline(__always) mutating func beginArray() { stack.beginContainer(isObject: false) }

    /// The key waits in its own slot; `element` fills in the value.
    @inline(__always)
    mutating func key(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: StringFlags) {
        stack.push(makeString(p, start, end, flags), .null)
    }

    @inline(__always)
    mutating func element(_ value: JSONValue) {
        if stack.inObject { stack.setLastValue(value) } else { stack.push("", value) }
    }

    mutating func endObject() -> JSONValue { .object(JSONObject(stack.endObject())) }
    mutating func endArray() -> JSONValue { .array(stack.endArray()) }

    /// One String per JSON string: straight from the input when there is nothing to decode.
    @inline(__always)
    private mutating func makeString(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int, _ flags: StringFlags) -> String {
        if !flags.hasEscape {
            if !flags.hasHighByte {
                return String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
            }
            return UTF8Repair.makeString(p, from: start, to: end)
        }
        scratch.removeAll(keepingCapacity: true)
        StringEscapes.appendUnescaped(p, from: start, to: end, into: &scratch)
        return scratch.withUnsafeBufferPointer { UTF8Repair.makeString($0.baseAddress!, from: 0, to: $0.count) }
    }
}
