/// Creates and evolves the typed per-family tables `md_<family>` and the `events_all` view.
///
/// Every table carries the identity columns (event_id, row_no, ts, ts_event, subject_id,
/// producer_id, schema_id, received_at) before the declared ones, a primary key on
/// (event_id, row_no, ts) so a redelivered event is a no-op with ON CONFLICT DO NOTHING, monthly
/// range partitions on ts, and an index on (subject_id, ts). All calls block; run them on the
/// connection's thread.
public enum FamilyTables {
    /// Makes `md_<family>` match `spec`: creates it, adds new nullable columns, or does nothing.
    ///
    /// Idempotent and safe against a concurrent call from another kernel (per-family advisory
    /// lock). Incompatible changes throw `.incompatibleChange` naming the family and column and
    /// leave the table untouched. Also ensures the current and next month's partitions exist.
    public static func ensure(_ spec: FamilyTableSpec, on connection: PGConnection) throws(FamilyTableError) -> FamilyTableChange {
        try spec.validate()
        let family = spec.family
        func db(_ body: () throws(PGError) -> Void) throws(FamilyTableError) {
            do { try body() } catch { throw .database(family: family, error: error) }
        }
        try db { () throws(PGError) in
            try connection.execute("BEGIN")
        }
        do {
            let change = try ensureLocked(spec, on: connection)
            try db { () throws(PGError) in try connection.execute("COMMIT") }
            return change
        } catch {
            connection.rollbackQuietly()
            throw error
        }
    }

    /// Rebuilds `events_all`: the identity columns of `events` and of every table listed in
    /// `family_tables`, with `source_table` naming where the row lives.
    ///
    /// Only `row_no = 0` of a typed table is included, so the view has one row per event (a
    /// book snapshot with 50 levels is one event, not 50); join the source table for the rest.
    ///
    /// Also rebuilds `event_tag_links` (event_id, ts, tag_id), one row per tag of every stored
    /// event, unnested from the rows' `tag_ids`: the shape of the `event_tags` rows of before.
    public static func refreshEventsAllView(on connection: PGConnection) throws(PGError) {
        let identity = "event_id, ts, ts_event, subject_id, producer_id, schema_id, received_at"
        // `tag_ids` after `source_table`: CREATE OR REPLACE VIEW may only add columns at the end.
        var selects = ["SELECT \(identity), 'events'::text AS source_table, tag_ids FROM events"]
        let tables = try connection.query(
            "SELECT table_name FROM family_tables WHERE to_regclass(quote_ident(table_name)) IS NOT NULL ORDER BY family")
        for row in tables.rows {
            // Names come from our own table, but are re-validated before they touch SQL text.
            guard let name = row[0], name.hasPrefix("md_"),
                  FamilyTableSpec.isIdentifier(name, maxLength: FamilyTableSpec.maxFamilyLength + 3) else { continue }
            let quoted = try connection.quoteIdentifier(name)
            let literal = try connection.quoteLiteral(name)
            selects.append("SELECT \(identity), \(literal)::text, tag_ids FROM \(quoted) WHERE row_no = 0")
        }
        try connection.execute("CREATE OR REPLACE VIEW events_all AS\n" + selects.joined(separator: "\nUNION ALL\n"))
        try connection.execute("""
            CREATE OR REPLACE VIEW event_tag_links AS
            SELECT event_id, ts, unnest(tag_ids) AS tag_id FROM events_all WHERE tag_ids IS NOT NULL
            """)
    }

    /// Creates the missing monthly partitions (current UTC month plus `monthsAhead` − 1 more) of
    /// `events` and every table in `family_tables`. Idempotent; call it at start-up
    /// and periodically (e.g. daily) so a new month never finds its partition missing. Returns
    /// how many partitions were created.
    @discardableResult
    public static func ensureAllMonthPartitions(monthsAhead: Int = 2, on connection: PGConnection) throws(PGError) -> Int {
        let result = try connection.query("""
            SELECT coalesce(sum(ensure_month_partitions(to_regclass(quote_ident(t)), (now() AT TIME ZONE 'UTC')::date, $1::int)), 0)
              FROM (SELECT 'events' AS t UNION ALL SELECT table_name FROM family_tables) AS tables
             WHERE to_regclass(quote_ident(t)) IS NOT NULL
            """, [String(monthsAhead)])
        return Int(result.scalar ?? "0") ?? 0
    }

    // MARK: - internals

    private struct ExistingColumn {
        let type: String
        let notNull: Bool
    }

    private struct RecordedColumn {
        var allowedValues: [String]?
        var description: String?
    }

    private static func ensureLocked(_ spec: FamilyTableSpec, on connection: PGConnection) throws(FamilyTableError) -> FamilyTableChange {
        let family = spec.family
        do {
            // DDL waits for ACCESS EXCLUSIVE behind in-flight writes; fail instead of hanging.
            try connection.execute("SET LOCAL lock_timeout = '10s'; SET LOCAL statement_timeout = '60s'")
            _ = try connection.query("SELECT pg_advisory_xact_lock(hashtext('dk_family:' || $1))", [family])
            let table = try connection.quoteIdentifier(spec.tableName)
            let json = spec.columnsJSON
            let recordedRow = try connection.query(
                "SELECT columns = $2::jsonb FROM family_tables WHERE family = $1", [family, json])
            let existing = try existingColumns(table: table, on: connection)

            if existing.isEmpty {
                try create(spec, table: table, on: connection)
                try record(spec, json: json, on: connection)
                try ensurePartitions(table: table, on: connection)
                try refreshEventsAllView(on: connection)
                return .created
            }
            if recordedRow.scalar == "t" {
                try ensurePartitions(table: table, on: connection)
                return .unchanged
            }
            let recorded = try recordedColumns(family: family, on: connection)
            let (added, other) = try alter(spec, table: table, existing: existing, recorded: recorded, on: connection)
            try record(spec, json: json, on: connection)
            try ensurePartitions(table: table, on: connection)
            if !added.isEmpty { try refreshEventsAllView(on: connection) }
            if added.isEmpty && other.isEmpty { return .unchanged }
            return .altered(addedColumns: added, otherChanges: other)
        } catch {
            throw familyError(error, family: family)
        }
    }

    /// `error` as a `FamilyTableError` of `family`: a Postgres error becomes `.database`, as does
    /// anything else (as text).
    private static func familyError(_ error: any Error, family: String) -> FamilyTableError {
        switch error {
        case let error as FamilyTableError: return error
        case let error as PGError: return .database(family: family, error: error)
        default: return .database(family: family, error: PGError(clientReason: "pg_error", kind: .other, message: "\(error)"))
        }
    }

    private static func existingColumns(table: String, on connection: PGConnection) throws(PGError) -> [String: ExistingColumn] {
        let result = try connection.query("""
            SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
              FROM pg_attribute a
             WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
            """, [table])
        var columns: [String: ExistingColumn] = [:]
        for row in result.rows {
            guard let name = row[0], let type = row[1] else { continue }
            columns[name] = ExistingColumn(type: type, notNull: row[2] == "t")
        }
        return columns
    }

    private static func recordedColumns(family: String, on connection: PGConnection) throws(PGError) -> [String: RecordedColumn] {
        let result = try connection.query("""
            SELECT c->>'name', c->>'description', v.value
              FROM family_tables f
             CROSS JOIN LATERAL jsonb_array_elements(f.columns) c
              LEFT JOIN LATERAL jsonb_array_elements_text(
                   CASE WHEN jsonb_typeof(c->'allowed_values') = 'array' THEN c->'allowed_values' ELSE '[]'::jsonb END
                   ) v(value) ON true
             WHERE f.family = $1
            """, [family])
        var columns: [String: RecordedColumn] = [:]
        for row in result.rows {
            guard let name = row[0] else { continue }
            var column = columns[name] ?? RecordedColumn(allowedValues: nil, description: row[1])
            if let value = row[2] { column.allowedValues = (column.allowedValues ?? []) + [value] }
            columns[name] = column
        }
        return columns
    }

    private static func columnDDL(_ column: FamilyTableSpec.ColumnSpec, on connection: PGConnection) throws(PGError) -> String {
        var ddl = try connection.quoteIdentifier(column.name) + " " + column.pgType.sqlName
        if !column.nullable { ddl += " NOT NULL" }
        if column.allowedValues != nil {
            ddl += " CONSTRAINT " + (try checkConstraint(column, on: connection))
        }
        return ddl
    }

    /// `"<col>_allowed" CHECK ("<col>" IN ('a', 'b'))`; CHECK names are per table, so no family prefix.
    private static func checkConstraint(_ column: FamilyTableSpec.ColumnSpec, on connection: PGConnection) throws(PGError) -> String {
        let name = try connection.quoteIdentifier(column.name + "_allowed")
        let quotedColumn = try connection.quoteIdentifier(column.name)
        var literals: [String] = []
        for value in column.allowedValues ?? [] { literals.append(try connection.quoteLiteral(value)) }
        return "\(name) CHECK (\(quotedColumn) IN (\(literals.joined(separator: ", "))))"
    }

    private static func comments(_ spec: FamilyTableSpec, only names: Set<String>?, table: String, on connection: PGConnection) throws(PGError) -> [String] {
        var statements: [String] = []
        for column in spec.columns where names?.contains(column.name) ?? true {
            guard let text = column.description else { continue }
            statements.append("COMMENT ON COLUMN \(table).\(try connection.quoteIdentifier(column.name)) IS \(try connection.quoteLiteral(text))")
        }
        return statements
    }

    private static func create(_ spec: FamilyTableSpec, table: String, on connection: PGConnection) throws(PGError) {
        var parts = FamilyTableSpec.identityColumns.map { "\($0.name) \($0.ddl)" }
        for column in spec.columns { parts.append(try columnDDL(column, on: connection)) }
        parts.append("PRIMARY KEY (event_id, row_no, ts)")
        let index = try connection.quoteIdentifier(spec.tableName + "_subject_ts_idx")
        let brin = try connection.quoteIdentifier(spec.tableName + "_ts_brin")
        var statements = [
            "CREATE TABLE \(table) (\n    " + parts.joined(separator: ",\n    ") + "\n) PARTITION BY RANGE (ts)",
            "CREATE INDEX IF NOT EXISTS \(index) ON \(table) (subject_id, ts)",
            // Tag queries over a time range read the range through it (docs/operations.md, "Tags").
            "CREATE INDEX IF NOT EXISTS \(brin) ON \(table) USING brin (ts)",
            "COMMENT ON TABLE \(table) IS \(try connection.quoteLiteral("typed rows of schema family \(spec.family); managed by the kernel"))",
        ]
        statements += try comments(spec, only: nil, table: table, on: connection)
        try connection.execute(statements.joined(separator: ";\n"))
    }

    /// Diffs the declaration against the catalog (types, nullability) and the recorded JSON
    /// (allowed values, descriptions); refuses before changing anything, then applies.
    private static func alter(_ spec: FamilyTableSpec, table: String, existing: [String: ExistingColumn],
                              recorded: [String: RecordedColumn], on connection: PGConnection)
        throws(FamilyTableError) -> (added: [String], other: [String]) {
        let family = spec.family
        let declared = Set(spec.columns.map(\.name))
        let identity = Set(FamilyTableSpec.identityColumns.map(\.name))
        for name in existing.keys.sorted() where !identity.contains(name) && !declared.contains(name) {
            throw .incompatibleChange(family: family, column: name, reason: "column dropped from the declaration")
        }
        var statements: [String] = []
        var added: [String] = []
        var other: [String] = []
        do {
            for column in spec.columns {
                let quotedColumn = try connection.quoteIdentifier(column.name)
                guard let current = existing[column.name] else {
                    guard column.nullable else {
                        throw FamilyTableError.incompatibleChange(family: family, column: column.name, reason: "new column must be nullable: existing rows have no value")
                    }
                    statements.append("ALTER TABLE \(table) ADD COLUMN \(try columnDDL(column, on: connection))")
                    added.append(column.name)
                    continue
                }
                guard current.type == column.pgType.sqlName else {
                    throw FamilyTableError.incompatibleChange(family: family, column: column.name, reason: "type change \(current.type) → \(column.pgType.sqlName)")
                }
                if !current.notNull && !column.nullable {
                    throw FamilyTableError.incompatibleChange(family: family, column: column.name, reason: "nullable → NOT NULL")
                }
                if current.notNull && column.nullable {
                    statements.append("ALTER TABLE \(table) ALTER COLUMN \(quotedColumn) DROP NOT NULL")
                    other.append("\(column.name): drop not null")
                }
                let old = recorded[column.name]?.allowedValues
                if old != column.allowedValues {
                    let constraint = try connection.quoteIdentifier(column.name + "_allowed")
                    switch (old, column.allowedValues) {
                    case (nil, _?):
                        throw FamilyTableError.incompatibleChange(family: family, column: column.name, reason: "allowed values added to an unrestricted column")
                    case (let old?, let new?) where !Set(old).isSubset(of: Set(new)):
                        throw FamilyTableError.incompatibleChange(family: family, column: column.name, reason: "allowed values narrowed")
                    default:
                        statements.append("ALTER TABLE \(table) DROP CONSTRAINT IF EXISTS \(constraint)")
                        if column.allowedValues != nil {
                            statements.append("ALTER TABLE \(table) ADD CONSTRAINT \(try checkConstraint(column, on: connection))")
                        }
                        other.append("\(column.name): allowed values widened")
                    }
                }
                if recorded[column.name]?.description != column.description {
                    if column.description == nil {
                        statements.append("COMMENT ON COLUMN \(table).\(quotedColumn) IS NULL")
                    } else {
                        statements += try comments(spec, only: [column.name], table: table, on: connection)
                    }
                    other.append("\(column.name): comment")
                }
            }
            if !statements.isEmpty { try connection.execute(statements.joined(separator: ";\n")) }
        } catch {
            throw familyError(error, family: family)
        }
        return (added, other)
    }

    private static func record(_ spec: FamilyTableSpec, json: String, on connection: PGConnection) throws(PGError) {
        _ = try connection.query("""
            INSERT INTO family_tables (family, table_name, columns) VALUES ($1, $2, $3::jsonb)
            ON CONFLICT (family) DO UPDATE SET columns = EXCLUDED.columns, table_name = EXCLUDED.table_name, updated_at = now()
            """, [spec.family, spec.tableName, json])
    }

    private static func ensurePartitions(table: String, on connection: PGConnection) throws(PGError) {
        _ = try connection.query(
            "SELECT ensure_month_partitions(to_regclass($1), (now() AT TIME ZONE 'UTC')::date, 2)", [table])
    }
}
