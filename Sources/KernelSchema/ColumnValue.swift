/// One typed value produced by a plugin for one column.
public enum ColumnValue: Sendable, Equatable {
    case null
    case text(String)
    /// Exact decimal text as the plugin gave it (validated grammar, no NaN/Infinity).
    case numeric(String)
    case int64(Int64)
    case float64(Double)
    case bool(Bool)
    /// Unix nanoseconds; the store keeps microseconds.
    case timestampNanos(Int64)
    /// Validated JSON text.
    case jsonb(String)

    /// Postgres text-format rendering, as COPY text would carry it (nil for NULL).
    public var textValue: String? {
        switch self {
        case .null: nil
        case .text(let s), .numeric(let s), .jsonb(let s): s
        case .int64(let v): String(v)
        case .float64(let v): String(v)
        case .bool(let v): v ? "true" : "false"
        case .timestampNanos(let ns): String(ns)
        }
    }
}

/// A tag a plugin attached to an event.
public struct Tag: Sendable, Equatable, Hashable {
    public var key: String
    public var value: String
    public init(key: String, value: String) { self.key = key; self.value = value }
}
