import KernelJSON
import KernelPluginABI

#if canImport(Glibc)
import Glibc
#endif

/// The host side of `kp_builder`: collects one batch of events' output and checks every value
/// against the family's declared columns as it arrives, so a plugin cannot hand the store a value
/// Postgres would reject mid-batch.
final class OutputCollector {
    let family: FamilyDescriptor
    /// Per column, what `set` checks: read by index so a value check copies no descriptor (each
    /// copy retained and released its name, description and allowed values).
    private let columnTypes: [ColumnType]
    private let allowedValues: [[String]?]
    private let nullable: [Bool]
    private(set) var outputs: [NormalizedEvent]
    private(set) var failures: [NormalizeFailure?]
    private var current = 0

    // The limits table of kernel_plugin.h.
    static let maxTags = Int(KP_TAGS_MAX)
    static let maxTagBytes = Int(KP_TAG_MAX)
    static let maxTextBytes = Int(KP_TEXT_MAX)
    static let maxNumericBytes = Int(KP_NUMERIC_TEXT_MAX)
    static let maxNumericExponent = Int(KP_NUMERIC_EXPONENT_MAX)

    init(family: FamilyDescriptor, count: Int) {
        self.family = family
        columnTypes = family.columns.map(\.type)
        allowedValues = family.columns.map(\.allowedValues)
        nullable = family.columns.map(\.nullable)
        outputs = Array(repeating: NormalizedEvent(), count: count)
        failures = Array(repeating: nil, count: count)
    }

    // MARK: callbacks (each returns nil on success or a message)

    func select(_ index: Int) -> String? {
        guard index >= 0, index < outputs.count else { return "select_event: index \(index) out of range 0..<\(outputs.count)" }
        current = index
        return nil
    }

    func fail(_ index: Int, status: UInt32, message: String) -> String? {
        guard index >= 0, index < outputs.count else { return "fail_event: index \(index) out of range" }
        let kind: NormalizeFailure.Kind = status == KP_ERR_UNSUPPORTED_VERSION.rawValue ? .unsupportedVersion
            : status == KP_ERR_INVALID_PAYLOAD.rawValue ? .invalidPayload : .pluginError
        // The plugin's own message wins over a contract violation the host recorded before it
        // (docs/plugins.md): the plugin knows which payload field was wrong, the host only which
        // call. A plugin that gives no message keeps the host's, which names the call and column.
        switch failures[index] {
        case nil:
            failures[index] = NormalizeFailure(kind: kind, message: message.isEmpty ? "plugin reported status \(status)" : message)
        case let recorded? where recorded.kind == .badOutput && !message.isEmpty:
            failures[index] = NormalizeFailure(kind: kind, message: message)
        default:
            break
        }
        return nil
    }

    /// Records a contract violation against the current event; the first one wins.
    @discardableResult
    func violate(_ message: String) -> String {
        if failures[current] == nil {
            failures[current] = NormalizeFailure(kind: .badOutput, message: message)
        }
        return message
    }

    func setPayload(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count <= Self.maxTextBytes else { return violate("set_payload_json: payload larger than \(Self.maxTextBytes) bytes") }
        guard JSONScanner.validate(bytes) == nil, let first = bytes.first(where: { !isJSONSpace($0) }), first == UInt8(ascii: "{") else {
            return violate("set_payload_json: not a JSON object")
        }
        outputs[current].payloadJSON = String(decoding: bytes, as: UTF8.self)
        return nil
    }

    func addTag(key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> String? {
        guard outputs[current].tags.count < Self.maxTags else { return violate("add_tag: more than \(Self.maxTags) tags") }
        guard let k = Self.text(key, max: Self.maxTagBytes), !k.isEmpty,
              let v = Self.text(value, max: Self.maxTagBytes), !v.isEmpty else {
            return violate("add_tag: key and value must be non-empty UTF-8 of at most \(Self.maxTagBytes) bytes")
        }
        if outputs[current].tags.capacity == 0 { outputs[current].tags.reserveCapacity(4) }   // one allocation, not 2-3 regrowths
        outputs[current].tags.append(Tag(key: k, value: v))
        return nil
    }

    /// Any `Int64` of Unix nanoseconds is a valid time (1677…2262, inside what timestamptz holds).
    func setEventTime(_ ns: Int64) -> String? {
        outputs[current].eventTimeNanos = ns
        return nil
    }

    func beginRow() -> String? {
        guard family.isTyped else { return violate("begin_row: family \(family.name) declares no typed columns") }
        guard outputs[current].rows.count < family.maxRowsPerEvent else {
            return violate("begin_row: more than max_rows_per_event (\(family.maxRowsPerEvent)) rows")
        }
        outputs[current].rows.append(Array(repeating: .null, count: family.columns.count))
        return nil
    }

    /// Stores `value` in column `index` of the current row after checking it against the declaration.
    /// `invalid`: a problem the caller already found in the raw bytes (reported after the row and
    /// column checks, like any other); `prechecked`: the caller validated the value already.
    func set(_ index: UInt32, _ value: ColumnValue, setter: String, invalid: String? = nil, prechecked: Bool = false) -> String? {
        guard !outputs[current].rows.isEmpty else { return violate("\(setter): no row begun (call begin_row first)") }
        let i = Int(index)
        guard i < columnTypes.count else {
            return violate("\(setter): column index \(index) out of range (family \(family.name) has \(family.columns.count))")
        }
        if let problem = invalid ?? (prechecked ? nil : Self.check(value, type: columnTypes[i], allowed: allowedValues[i])) {
            return violate("\(setter): column \(family.columns[i].name): \(problem)")
        }
        outputs[current].rows[outputs[current].rows.count - 1][Int(index)] = value
        return nil
    }

    /// After the plugin returned: every non-nullable column set, typed families produced a row.
    func finish() {
        for i in 0..<outputs.count where failures[i] == nil {
            if family.isTyped && outputs[i].rows.isEmpty {
                failures[i] = NormalizeFailure(kind: .badOutput, message: "no typed row produced for family \(family.name)")
                continue
            }
            // Column facts by index: iterating `family.columns` copied a descriptor per column per event.
            rows: for (r, row) in outputs[i].rows.enumerated() {
                for c in 0..<nullable.count where !nullable[c] && row[c] == .null {
                    failures[i] = NormalizeFailure(kind: .badOutput,
                                                   message: "row \(r): column \(family.columns[c].name) is required but was not set")
                    break rows
                }
            }
        }
    }

    static func check(_ value: ColumnValue, for column: ColumnDescriptor) -> String? {
        check(value, type: column.type, allowed: column.allowedValues)
    }

    static func check(_ value: ColumnValue, type: ColumnType, allowed allowedValues: [String]?) -> String? {
        switch (value, type) {
        case (.null, _):
            return nil
        case (.text(let s), .text):
            if let allowed = allowedValues, !allowed.contains(s) {
                return "\"\(s.prefix(64))\" is not one of \(allowed.joined(separator: "|"))"
            }
            return nil
        case (.numeric(let s), .numeric):
            return isDecimal(s) ? nil : "\"\(s.prefix(64))\" is not a decimal number"
        case (.int64, .int8):
            return nil
        case (.int64(let v), .int4):
            return Int64(Int32.min)...Int64(Int32.max) ~= v ? nil : "\(v) does not fit in integer"
        case (.float64(let v), .float8):
            return v.isFinite ? nil : "non-finite float"
        case (.bool, .bool):
            return nil
        case (.timestampNanos, .timestamptz):
            return nil
        case (.jsonb, .jsonb):
            return nil
        default:
            return "wrong setter for a \(type.sqlName) column"
        }
    }

    /// The numeric grammar of kernel_plugin.h's limits table: -?digits[.digits][(e|E)[+-]digits],
    /// at most KP_NUMERIC_TEXT_MAX bytes, exponent value at most KP_NUMERIC_EXPONENT_MAX.
    static func isDecimal(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { isDecimal(UnsafeRawBufferPointer($0)) }
    }

    static func isDecimal(_ u: UnsafeRawBufferPointer) -> Bool {
        guard !u.isEmpty, u.count <= maxNumericBytes else { return false }
        var i = 0
        func digits() -> Int {
            let start = i
            while i < u.count, u[i] >= UInt8(ascii: "0"), u[i] <= UInt8(ascii: "9") { i += 1 }
            return i - start
        }
        if u[i] == UInt8(ascii: "-") { i += 1 }
        guard digits() > 0 else { return false }
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { return false }
        }
        if i < u.count, u[i] == UInt8(ascii: "e") || u[i] == UInt8(ascii: "E") {
            i += 1
            if i < u.count, u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") { i += 1 }
            let expStart = i
            guard digits() > 0 else { return false }
            // Postgres numeric refuses exponents beyond ±1000; catch it here, not mid-COPY. The
            // value counts, not the digits: 1e0001000 is 1e1000.
            var exponent = 0
            for b in u[expStart..<i] {
                exponent = exponent * 10 + Int(b - UInt8(ascii: "0"))
                guard exponent <= maxNumericExponent else { return false }
            }
        }
        return i == u.count
    }

    /// The name of column `index` for messages, or `#index` when there is no such column.
    func columnName(_ index: UInt32) -> String {
        Int(index) < family.columns.count ? family.columns[Int(index)].name : "#\(index)"
    }

    static func text(_ bytes: UnsafeRawBufferPointer, max: Int) -> String? {
        guard bytes.count <= max else { return nil }
        if let base = bytes.baseAddress, memchr(base, 0, bytes.count) != nil { return nil }
        return UTF8Text.string(validating: bytes)
    }

    private func isJSONSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 }
}
