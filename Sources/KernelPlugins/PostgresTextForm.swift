import KernelEvents
import KernelJSON

/// A column value as Postgres prints it back (`SELECT col::text`), so that what a plugin author
/// expects can be written the way `psql` shows the stored row: a numeric `1e-5` is stored and
/// printed as `0.00001`, `1.50e1` as `15.0`, a boolean as `t`/`f`.
public enum PostgresTextForm {
    /// The text Postgres prints for `value` stored in a column of `type`; nil for NULL.
    public static func of(_ value: ColumnValue) -> String? {
        switch value {
        case .null: nil
        case .numeric(let s): numeric(s) ?? s
        case .bool(let b): b ? "t" : "f"
        case .timestampNanos(let ns): timestamp(ns)
        case .jsonb(let s): JSONCanonical.canonicalize(s)
        case .text, .int64, .float64: value.textValue
        }
    }

    /// The text an expected fixture value stands for in a column of `type`, read leniently: JSON
    /// numbers or strings for numeric, `true`/`false`/`"t"`/`"f"` for booleans, Unix nanoseconds
    /// or RFC 3339 text for timestamps, any JSON for jsonb. nil when the fixture means NULL.
    public static func expected(_ value: JSONValue, type: ColumnType) -> String? {
        switch (value, type) {
        case (.null, _): return nil
        case (.number(let n), .numeric), (.string(let n), .numeric): return numeric(n) ?? n
        case (.bool(let b), .bool): return b ? "t" : "f"
        case (.string(let s), .bool): return ["t", "true"].contains(s) ? "t" : ["f", "false"].contains(s) ? "f" : s
        case (.number(let n), .timestamptz): return Int64(n).map(timestamp) ?? n
        case (.string(let s), .timestamptz): return RFC3339.parseNanos(s).map(timestamp) ?? Int64(s).map(timestamp) ?? s
        case (.number(let n), .float8), (.string(let n), .float8): return Double(n).map { String($0) } ?? n
        case (_, .jsonb): return JSONCanonical.canonicalize(value.jsonText)
        case (.string(let s), _): return s
        case (.number(let n), _): return n
        case (.bool(let b), _): return b ? "true" : "false"
        default: return value.description
        }
    }

    /// Postgres `numeric` output for decimal text: no exponent, as many fraction digits as the
    /// input's scale (`max(0, fraction digits - exponent)`), no sign on zero. nil if `text` is not
    /// decimal text.
    public static func numeric(_ text: String) -> String? {
        guard OutputCollector.isDecimal(text) else { return nil }
        var s = Substring(text)
        let negative = s.first == "-"
        if negative { s = s.dropFirst() }
        var exponent = 0
        if let e = s.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(s[s.index(after: e)...].replacingPlus()) ?? 0
            s = s[..<e]
        }
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        let integer = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        let digits = Array(integer + fraction)
        let scale = max(0, fraction.count - exponent)
        let point = integer.count + exponent   // position of the decimal point in `digits`
        var intPart: [Character]
        var fracPart: [Character]
        if point <= 0 {
            intPart = ["0"]
            fracPart = Array(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            intPart = digits + Array(repeating: "0", count: point - digits.count)
            fracPart = []
        } else {
            intPart = Array(digits[..<point])
            fracPart = Array(digits[point...])
        }
        while intPart.count > 1, intPart.first == "0" { intPart.removeFirst() }
        if fracPart.count < scale { fracPart += Array(repeating: "0", count: scale - fracPart.count) }
        fracPart = Array(fracPart.prefix(scale))
        let isZero = !(intPart + fracPart).contains { $0 != "0" }
        return (negative && !isZero ? "-" : "") + String(intPart) + (fracPart.isEmpty ? "" : "." + String(fracPart))
    }

    /// `timestamptz` as Postgres prints it with `TimeZone=UTC`: microseconds, trailing zeros of
    /// the fraction dropped, e.g. `2026-11-25 14:30:00.1234+00`.
    public static func timestamp(_ ns: Int64) -> String {
        // The store keeps microseconds (rounded toward minus infinity, as BatchPlan does).
        var micros = ns / 1000
        if ns % 1000 < 0 { micros -= 1 }
        let text = RFC3339.format(nanos: micros * 1000)   // YYYY-MM-DDTHH:MM:SS.fffffffffZ
        var date = text.prefix(19).replacingOccurrences(of: "T", with: " ")
        var fraction = text.dropFirst(20).prefix(6)
        while fraction.last == "0" { fraction = fraction.dropLast() }
        if !fraction.isEmpty { date += "." + String(fraction) }
        return date + "+00"
    }
}

extension Substring {
    fileprivate func replacingPlus() -> Substring { first == "+" ? dropFirst() : self }
}

extension StringProtocol {
    fileprivate func replacingOccurrences(of a: Character, with b: Character) -> String {
        String(map { $0 == a ? b : $0 })
    }
}

extension JSONValue {
    /// Compact JSON text of the value.
    fileprivate var jsonText: String { JSONWriter.serialize(self) }
}
