/// One typed column of a family table; becomes a C `kp_column`.
public struct Column: Sendable {
    /// Lower-case SQL identifier `[a-z][a-z0-9_]{0,54}` (`Limits.columnName`), not a kernel identity column.
    public var name: String
    public var type: ColumnType
    /// Whether the column may stay NULL; a non-nullable column left unset fails the event.
    public var nullable: Bool
    /// For `.text` only: the allowed values (an enum); the host adds a CHECK constraint.
    public var allowedValues: [String]?
    /// Shown by `kernel plugins check` and stored as the column comment.
    public var description: String

    public init(
        _ name: String,
        _ type: ColumnType,
        nullable: Bool = false,
        allowedValues: [String]? = nil,
        description: String
    ) {
        self.name = name
        self.type = type
        self.nullable = nullable
        self.allowedValues = allowedValues
        self.description = description
    }
}

/// Postgres types a column may declare (`kp_column_type`).
public enum ColumnType: UInt32, Sendable, CaseIterable {
    /// `text`; set with `Output.set(_:text:)`.
    case text = 1
    /// `numeric`; exact decimal text, set with `Output.set(_:numeric:)`.
    case numeric = 2
    /// `bigint`; `Output.set(_:int64:)`.
    case int8 = 3
    /// `integer`; `Output.set(_:int64:)` with a value that fits 32 bits.
    case int4 = 4
    /// `double precision`, for ratios and statistics, never prices; `Output.set(_:float64:)`.
    case float8 = 5
    /// `boolean`; `Output.set(_:bool:)`.
    case bool = 6
    /// `timestamptz` from Unix nanoseconds (stored at µs); `Output.set(_:timestampNanos:)`.
    case timestamptz = 7
    /// `jsonb`; `Output.set(_:jsonb:)`.
    case jsonb = 8
}
