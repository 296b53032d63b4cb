/// The Postgres types a schema family may declare for its typed columns.
public enum PGColumnType: String, Sendable, CaseIterable, Codable {
    case text, numeric, int8, int4, float8, bool, timestamptz, jsonb

    /// The type as written in DDL.
    public var sqlName: String {
        switch self {
        case .text: "text"
        case .numeric: "numeric"
        case .int8: "bigint"
        case .int4: "integer"
        case .float8: "double precision"
        case .bool: "boolean"
        case .timestamptz: "timestamp with time zone"
        case .jsonb: "jsonb"
        }
    }

    /// The type from `format_type()` in the catalog (the same spelling as `sqlName`).
    init?(catalogName: String) {
        guard let match = PGColumnType.allCases.first(where: { $0.sqlName == catalogName }) else { return nil }
        self = match
    }
}
