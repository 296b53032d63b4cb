/// A parsed JSON value.
///
/// Numbers keep their exact source text (`"187.2500"` stays `"187.2500"`): prices are decimals and must
/// never be rounded through `Double`. Equality is exact: strings and keys compare by UTF-8 bytes and
/// numbers by text, so `.number("1.0") != .number("1")`.
public enum JSONValue: Sendable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    /// The number's source text, e.g. `"187.2500"`, `"-1e-7"`. Writers emit it verbatim.
    case number(String)
    /// Escapes decoded; invalid UTF-8 bytes and lone surrogates become U+FFFD.
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    /// The member `key` if this is an object (last duplicate wins), else nil.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    /// The element at `index` if this is an array and the index is in range, else nil.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let a) = self, a.indices.contains(index) { return a[index] }
        return nil
    }

    /// The decoded string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// The number's source text, if this is a number.
    public var numberText: String? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The boolean, if this is `true` or `false`.
    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The object, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    /// True for `null` only.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Compact JSON (see `JSONWriter.serialize`).
    public var description: String { JSONWriter.serialize(self) }

    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return sameBytes(a, b)
        case (.string(let a), .string(let b)): return sameBytes(a, b)
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)): return a == b
        default: return false
        }
    }
}
