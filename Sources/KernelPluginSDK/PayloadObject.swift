#if canImport(Glibc)
import Glibc
#endif

/// A payload object with typed field accessors whose errors name the field, so every plugin
/// rejects bad payloads with the same clear messages.
///
/// Optional accessors treat an explicit JSON `null` like an absent field. Duplicate keys resolve
/// to the last occurrence, as Postgres `jsonb` (which stores the payload) does.
public struct PayloadObject: Sendable {
    /// A parsed tree, or the payload's bytes with its top-level members located by one validating
    /// scan (`Event.payloadObject()`): the typed accessors then decode only the members a plugin
    /// asks for, where building the tree allocated and decoded every member of every event.
    private enum Storage: Sendable {
        case tree(JSONObject)
        case scanned(bytes: [UInt8], members: [JSONScanner.Member], maxDepth: Int)
    }

    private let storage: Storage

    public init(_ object: JSONObject) { storage = .tree(object) }

    /// The payload `bytes` (copied: the value may outlive the host's buffer), or nil when they are
    /// not one well-formed JSON object within `maxDepth` (the caller reports why).
    init?(scanning bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        let copy = Array(bytes)
        guard let members = copy.withUnsafeBytes({ JSONScanner.members(in: $0, maxDepth: maxDepth) }) else { return nil }
        storage = .scanned(bytes: copy, members: members, maxDepth: maxDepth)
    }

    /// The underlying object (built on demand for a scanned payload).
    public var object: JSONObject {
        switch storage {
        case .tree(let object):
            return object
        case .scanned(let bytes, _, let maxDepth):
            return (try? JSONParser.parse(bytes, maxDepth: maxDepth))?.objectValue ?? JSONObject()
        }
    }

    /// What a constraint on a decimal field demands.
    public enum DecimalConstraint: Sendable {
        /// Any decimal.
        case any
        /// Strictly greater than zero (prices).
        case positive
        /// Zero or more (sizes, volumes).
        case nonNegative

        func check(_ d: DecimalText, field: @autoclosure () -> String) throws(NormalizeError) {
            switch self {
            case .any: return
            case .positive where !d.isPositive:
                throw .invalidPayload("field '\(field())' must be > 0, got \(PayloadObject.clip(d.text))")
            case .nonNegative where d.isNegative:
                throw .invalidPayload("field '\(field())' must be >= 0, got \(PayloadObject.clip(d.text))")
            default: return
            }
        }
    }

    /// The member `key`, or nil when absent. `null` is returned as `.null`. Duplicates: the last wins.
    public subscript(key: String) -> JSONValue? {
        switch storage {
        case .tree(let object):
            return object[key]
        case .scanned(let bytes, let members, let maxDepth):
            return bytes.withUnsafeBytes { raw -> JSONValue? in
                guard let index = JSONScanner.lastMember(named: key, in: members, bytes: raw) else { return nil }
                let member = members[index]
                switch member.kind {
                case .string: return .string(JSONScanner.string(member.value, in: raw))
                case .number: return .number(String(decoding: raw[member.value], as: UTF8.self))
                case .bool: return .bool(raw[member.value.lowerBound] == UInt8(ascii: "t"))
                case .null: return .null
                case .array, .object:
                    // Validated with the whole payload, one level deeper.
                    return try? JSONParser.parse(UnsafeRawBufferPointer(rebasing: raw[member.value]), maxDepth: maxDepth - 1)
                case .absent, .error: return nil
                }
            }
        }
    }

    /// The member `key` unless it is absent or `null`.
    public func present(_ key: String) -> JSONValue? {
        guard let v = self[key], !v.isNull else { return nil }
        return v
    }

    func required(_ key: String) throws(NormalizeError) -> JSONValue {
        guard let v = self[key] else { throw .invalidPayload("missing required field '\(key)'") }
        guard !v.isNull else { throw .invalidPayload("field '\(key)' must not be null") }
        return v
    }

    // MARK: strings

    /// A required string; empty strings are rejected unless `allowEmpty`.
    public func requiredString(_ key: String, allowEmpty: Bool = false) throws(NormalizeError) -> String {
        try Self.string(required(key), field: key, allowEmpty: allowEmpty)
    }

    /// An optional string (absent or null → nil); present values must be strings.
    public func optionalString(_ key: String, allowEmpty: Bool = true) throws(NormalizeError) -> String? {
        guard let v = present(key) else { return nil }
        return try Self.string(v, field: key, allowEmpty: allowEmpty)
    }

    /// A required string that must be one of `allowed`.
    public func requiredEnum(_ key: String, allowed: [String]) throws(NormalizeError) -> String {
        try Self.enumValue(required(key), field: key, allowed: allowed)
    }

    /// An optional enum string; absent or null → `defaultValue`.
    public func optionalEnum(_ key: String, allowed: [String], default defaultValue: String) throws(NormalizeError) -> String {
        guard let v = present(key) else { return defaultValue }
        return try Self.enumValue(v, field: key, allowed: allowed)
    }

    // MARK: decimals

    /// A required decimal given as a JSON number or a decimal string.
    public func requiredDecimal(_ key: String, _ constraint: DecimalConstraint = .any) throws(NormalizeError) -> DecimalText {
        let d = try Self.decimal(required(key), field: key)
        try constraint.check(d, field: key)
        return d
    }

    /// An optional decimal (absent or null → nil).
    public func optionalDecimal(_ key: String, _ constraint: DecimalConstraint = .any) throws(NormalizeError) -> DecimalText? {
        guard let v = present(key) else { return nil }
        let d = try Self.decimal(v, field: key)
        try constraint.check(d, field: key)
        return d
    }

    // MARK: integers

    /// A required integer: a JSON number written without fraction or exponent, within `Int64`.
    public func requiredInt64(_ key: String, minimum: Int64 = .min) throws(NormalizeError) -> Int64 {
        try Self.int64(required(key), field: key, minimum: minimum)
    }

    /// An optional integer (absent or null → nil).
    public func optionalInt64(_ key: String, minimum: Int64 = .min) throws(NormalizeError) -> Int64? {
        guard let v = present(key) else { return nil }
        return try Self.int64(v, field: key, minimum: minimum)
    }

    // MARK: timestamps, arrays

    /// A required RFC 3339 timestamp string, as Unix nanoseconds (see `Timestamp.parseRFC3339`).
    public func requiredTimestamp(_ key: String) throws(NormalizeError) -> Int64 {
        try Self.timestamp(required(key), field: key)
    }

    /// An optional RFC 3339 timestamp (absent or null → nil).
    public func optionalTimestamp(_ key: String) throws(NormalizeError) -> Int64? {
        guard let v = present(key) else { return nil }
        return try Self.timestamp(v, field: key)
    }

    /// A required array.
    public func requiredArray(_ key: String) throws(NormalizeError) -> [JSONValue] {
        let v = try required(key)
        guard case .array(let a) = v else {
            throw .invalidPayload("field '\(key)' must be an array, got \(Self.kind(of: v))")
        }
        return a
    }

    // MARK: value checks, also for nested values (`field` is the path used in messages)

    /// `value` as a string, or an error naming `field` (built only on failure).
    public static func string(_ value: JSONValue, field: @autoclosure () -> String, allowEmpty: Bool = true) throws(NormalizeError) -> String {
        guard case .string(let s) = value else {
            throw .invalidPayload("field '\(field())' must be a string, got \(kind(of: value))")
        }
        guard allowEmpty || !s.isEmpty else { throw .invalidPayload("field '\(field())' must not be empty") }
        return s
    }

    /// `value` as one of `allowed`, or an error naming `field` and the allowed values.
    public static func enumValue(_ value: JSONValue, field: @autoclosure () -> String, allowed: [String]) throws(NormalizeError) -> String {
        let s = try string(value, field: field())
        // Byte equality, not Swift's `==`: "\u{212A}" (Kelvin sign) == "K" in Swift, but the host's
        // CHECK constraint compares bytes.
        guard allowed.contains(where: { sameBytes($0, s) }) else {
            throw .invalidPayload("field '\(field())' must be one of \(allowed.joined(separator: "|")), got \"\(clip(s))\"")
        }
        return s
    }

    /// `value` (a JSON number or decimal string) as a decimal, or an error naming `field`.
    public static func decimal(_ value: JSONValue, field: @autoclosure () -> String, _ constraint: DecimalConstraint = .any) throws(NormalizeError) -> DecimalText {
        let text: String
        switch value {
        case .number(let t), .string(let t): text = t
        default:
            throw .invalidPayload("field '\(field())' must be a decimal number or decimal string, got \(kind(of: value))")
        }
        guard let d = DecimalText(text) else {
            throw .invalidPayload("field '\(field())' is not a decimal: \"\(clip(text))\"")
        }
        try constraint.check(d, field: field())
        return d
    }

    /// `value` as an integer (no fraction, no exponent, fits `Int64`, ≥ `minimum`).
    public static func int64(_ value: JSONValue, field: @autoclosure () -> String, minimum: Int64 = .min) throws(NormalizeError) -> Int64 {
        guard case .number(let t) = value else {
            throw .invalidPayload("field '\(field())' must be an integer, got \(kind(of: value))")
        }
        guard !t.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) else {
            throw .invalidPayload("field '\(field())' must be an integer, got \(clip(t))")
        }
        guard let n = Int64(t) else {
            throw .invalidPayload("field '\(field())' must be an integer within 64 bits, got \(clip(t))")
        }
        guard n >= minimum else { throw .invalidPayload("field '\(field())' must be >= \(minimum), got \(n)") }
        return n
    }

    /// `value` as an RFC 3339 timestamp in Unix nanoseconds.
    public static func timestamp(_ value: JSONValue, field: @autoclosure () -> String) throws(NormalizeError) -> Int64 {
        let s = try string(value, field: field())
        guard let ns = Timestamp.parseRFC3339(s) else {
            throw .invalidPayload("field '\(field())' must be an RFC 3339 timestamp like 2026-11-25T14:30:00.123Z, got \"\(clip(s))\"")
        }
        return ns
    }

    /// The JSON kind of `value`, for messages.
    public static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// Whether `a` and `b` hold the same UTF-8 bytes.
    static func sameBytes(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a, b = b
        return a.withUTF8 { x in b.withUTF8 { y in x.isEmpty || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0 } }
    }

    /// At most 64 characters of untrusted text for a message.
    static func clip(_ s: String) -> String {
        s.utf8.count <= 64 ? s : String(s.prefix(64)) + "…"
    }
}
