import KernelJSON
/// The typed table a schema family declares: `md_<family>` with the kernel's identity columns
/// plus these columns.
public struct FamilyTableSpec: Sendable, Equatable {
    /// One declared column.
    public struct ColumnSpec: Sendable, Equatable {
        /// Column name: `[a-z][a-z0-9_]*`, at most 55 characters, not an identity column.
        public var name: String
        /// Postgres type.
        public var pgType: PGColumnType
        /// False → NOT NULL.
        public var nullable: Bool
        /// When set, a CHECK constraint limits the column to these values (non-empty list).
        public var allowedValues: [String]?
        /// Stored as the column's COMMENT.
        public var description: String?

        /// Creates a column declaration.
        public init(name: String, pgType: PGColumnType, nullable: Bool = false,
                    allowedValues: [String]? = nil, description: String? = nil) {
            self.name = name
            self.pgType = pgType
            self.nullable = nullable
            self.allowedValues = allowedValues
            self.description = description
        }
    }

    /// Family name: `[a-z][a-z0-9_]*`, at most 40 characters (table `md_<family>`).
    public var family: String
    /// Declared columns, in table order.
    public var columns: [ColumnSpec]

    /// Creates a spec.
    public init(family: String, columns: [ColumnSpec]) {
        self.family = family
        self.columns = columns
    }

    /// The table that holds this family's rows.
    public var tableName: String { "md_" + family }

    /// Columns every storage table carries, in order, with their DDL.
    static let identityColumns: [(name: String, ddl: String)] = [
        ("event_id", "uuid NOT NULL"),
        ("row_no", "integer NOT NULL DEFAULT 0"),
        ("ts", "timestamp with time zone NOT NULL"),
        ("ts_event", "timestamp with time zone"),
        ("subject_id", "uuid NOT NULL"),
        ("producer_id", "uuid NOT NULL"),
        ("schema_id", "uuid NOT NULL"),
        ("received_at", "timestamp with time zone NOT NULL DEFAULT now()"),
        // The event's tag ids (`tags.tag_id`), on each of its rows; NULL without tags.
        ("tag_ids", "bigint[]"),
    ]

    static let maxFamilyLength = 40
    static let maxColumnLength = 55

    /// Checks names, duplicates and allowed values; the SQL built from a valid spec never
    /// contains text that was not validated or quoted.
    func validate() throws(FamilyTableError) {
        guard FamilyTableSpec.isIdentifier(family, maxLength: FamilyTableSpec.maxFamilyLength) else {
            throw .invalidSpec(family: family, column: nil, reason: "family name must match [a-z][a-z0-9_]* and be at most \(FamilyTableSpec.maxFamilyLength) characters")
        }
        var seen: Set<String> = []
        for column in columns {
            guard FamilyTableSpec.isIdentifier(column.name, maxLength: FamilyTableSpec.maxColumnLength) else {
                throw .invalidSpec(family: family, column: column.name, reason: "column name must match [a-z][a-z0-9_]* and be at most \(FamilyTableSpec.maxColumnLength) characters")
            }
            guard !FamilyTableSpec.identityColumns.contains(where: { $0.name == column.name }) else {
                throw .invalidSpec(family: family, column: column.name, reason: "name is reserved for an identity column")
            }
            guard seen.insert(column.name).inserted else {
                throw .invalidSpec(family: family, column: column.name, reason: "declared twice")
            }
            if let values = column.allowedValues {
                guard !values.isEmpty else {
                    throw .invalidSpec(family: family, column: column.name, reason: "allowed values must not be empty")
                }
                guard column.pgType != .jsonb else {
                    throw .invalidSpec(family: family, column: column.name, reason: "allowed values are not supported for jsonb")
                }
                guard values.allSatisfy({ !$0.utf8.contains(0) }) else {
                    throw .invalidSpec(family: family, column: column.name, reason: "allowed value contains a NUL byte")
                }
            }
            if let text = column.description, text.utf8.contains(0) {
                throw .invalidSpec(family: family, column: column.name, reason: "description contains a NUL byte")
            }
        }
    }

    static func isIdentifier(_ name: String, maxLength: Int) -> Bool {
        let bytes = Array(name.utf8)
        guard let first = bytes.first, bytes.count <= maxLength, first >= 0x61, first <= 0x7A else { return false }
        return bytes.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// The declared columns as a JSON array, recorded in `family_tables.columns`.
    var columnsJSON: String {
        var out = "["
        for (index, column) in columns.enumerated() {
            if index > 0 { out += "," }
            out += "{\"name\":\(JSONText.quote(column.name)),\"type\":\(JSONText.quote(column.pgType.rawValue))"
            out += ",\"nullable\":\(column.nullable)"
            if let values = column.allowedValues {
                out += ",\"allowed_values\":[" + values.map(JSONText.quote).joined(separator: ",") + "]"
            } else {
                out += ",\"allowed_values\":null"
            }
            out += ",\"description\":" + (column.description.map(JSONText.quote) ?? "null") + "}"
        }
        return out + "]"
    }
}

/// Minimal JSON string quoting for the few documents this module writes.
/// JSON string literals for the `family_tables.columns` document, via KernelJSON's writer.
enum JSONText {
    static func quote(_ text: String) -> String {
        var bytes: [UInt8] = []
        JSONWriter.appendString(text, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}
