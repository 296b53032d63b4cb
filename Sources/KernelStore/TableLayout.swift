import KernelPlugins
import KernelPostgres

/// The SQL for one storage table (`events` or an `md_<family>`) and its per-connection staging
/// table, built once per family declaration with every identifier quoted by libpq.
struct TableLayout {
    /// Unquoted table name, as `ensure_month_partitions` and the caches key it.
    let table: String
    /// The family whose typed rows this table holds; nil for the generic `events` table.
    let family: FamilyDescriptor?
    /// Fields per COPY tuple.
    let fieldCount: Int
    /// Binary COPY straight into the table (fast path).
    let copySQL: String
    /// Binary COPY into the staging table (dedup path).
    let stageCopySQL: String
    /// Creates the staging table; run outside any transaction.
    let stageCreateSQL: String
    /// Moves the staging rows into the table, skipping stored events; one row: the number of
    /// events (not rows) inserted.
    let insertSQL: String
    /// As `insertSQL`, also emptying the staging table (several moves in one transaction).
    let moveSQL: String

    /// Identity columns in COPY order; `received_at` is left to its DEFAULT now().
    static let typedIdentity = ["event_id", "row_no", "ts", "ts_event", "subject_id", "producer_id", "schema_id"]
    static let genericColumns = ["event_id", "ts", "ts_event", "subject_id", "producer_id", "schema_id", "payload"]

    static func generic(on connection: PGConnection) throws(PGError) -> TableLayout {
        try TableLayout(table: "events", family: nil, columns: genericColumns, countWhere: nil, on: connection)
    }

    static func typed(_ family: FamilyDescriptor, on connection: PGConnection) throws(PGError) -> TableLayout {
        var columns = typedIdentity
        for column in family.columns { columns.append(column.name) }
        // An event's first row stands for the event when counting inserts.
        return try TableLayout(table: family.tableName, family: family, columns: columns, countWhere: "row_no = 0", on: connection)
    }

    private init(table: String, family: FamilyDescriptor?, columns: [String], countWhere: String?,
                 on connection: PGConnection) throws(PGError) {
        self.table = table
        self.family = family
        fieldCount = columns.count
        var quotedColumns: [String] = []
        for column in columns { quotedColumns.append(try connection.quoteIdentifier(column)) }
        let list = quotedColumns.joined(separator: ", ")
        let target = try connection.quoteIdentifier(table)
        let stage = "pg_temp." + (try connection.quoteIdentifier("dk_stage_" + table))
        copySQL = "COPY \(target) (\(list)) FROM STDIN (FORMAT binary)"
        stageCopySQL = "COPY \(stage) (\(list)) FROM STDIN (FORMAT binary)"
        // ON COMMIT DELETE ROWS empties the stage at every commit that used it, in place (no new
        // relfilenode, unlike TRUNCATE), and a rolled-back COPY leaves nothing behind either.
        stageCreateSQL = "DROP TABLE IF EXISTS \(stage); "
            + "CREATE TEMP TABLE \(stage.dropFirst("pg_temp.".count)) (LIKE \(target) INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        let filter = countWhere.map { " FILTER (WHERE \($0))" } ?? ""
        let returning = countWhere == nil ? "1" : "row_no"
        insertSQL = """
            WITH ins AS (INSERT INTO \(target) (\(list)) SELECT \(list) FROM \(stage) \
            ON CONFLICT DO NOTHING RETURNING \(returning)) SELECT count(*)\(filter) FROM ins
            """
        moveSQL = """
            WITH moved AS (DELETE FROM \(stage) RETURNING \(list)), \
            ins AS (INSERT INTO \(target) (\(list)) SELECT \(list) FROM moved \
            ON CONFLICT DO NOTHING RETURNING \(returning)) SELECT count(*)\(filter) FROM ins
            """
    }

    /// True when this layout was built for the same columns as `family` declares now.
    func matches(_ family: FamilyDescriptor) -> Bool {
        guard let mine = self.family else { return false }
        return mine.columns.count == family.columns.count
            && zip(mine.columns, family.columns).allSatisfy { $0.name == $1.name && $0.type == $1.type }
    }
}

/// The same for `event_tags`, whose rows are (event_id, ts, tag_id).
enum TagLinkSQL {
    static let copy = "COPY event_tags (event_id, ts, tag_id) FROM STDIN (FORMAT binary)"
    static let stageCopy = "COPY pg_temp.dk_stage_event_tags (event_id, ts, tag_id) FROM STDIN (FORMAT binary)"
    static let stageCreate = "DROP TABLE IF EXISTS pg_temp.dk_stage_event_tags; "
        + "CREATE TEMP TABLE dk_stage_event_tags (LIKE event_tags) ON COMMIT DELETE ROWS"
    static let insert = """
        INSERT INTO event_tags (event_id, ts, tag_id) SELECT event_id, ts, tag_id FROM pg_temp.dk_stage_event_tags \
        ON CONFLICT DO NOTHING
        """
    static let move = """
        WITH moved AS (DELETE FROM pg_temp.dk_stage_event_tags RETURNING event_id, ts, tag_id) \
        INSERT INTO event_tags (event_id, ts, tag_id) SELECT event_id, ts, tag_id FROM moved ON CONFLICT DO NOTHING
        """
}
