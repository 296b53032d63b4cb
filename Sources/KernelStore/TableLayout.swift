import KernelSchema
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

    /// Identity columns in COPY order. `received_at` is sent (when the kernel read the event, kept
    /// through spill and replay), not left to its DEFAULT now(), which a replay would make the
    /// replay's time.
    /// `tag_ids`: the event's tag ids on its rows (docs/operations.md, "Tags"; replaced the
    /// `event_tags` rows, which cost Postgres more than the row itself).
    static let typedIdentity = ["event_id", "row_no", "ts", "ts_event", "subject_id", "producer_id", "schema_id", "received_at",
                                "tag_ids"]
    static let genericColumns = ["event_id", "ts", "ts_event", "subject_id", "producer_id", "schema_id", "received_at", "tag_ids",
                                 "payload"]

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
        // Only events whose identity this transaction claimed (`IdentitySQL.claim`): a copy of an
        // event stored before, in any table or with any ts, adds no row.
        let claimed = "WHERE event_id IN (SELECT event_id FROM \(IdentitySQL.claimed))"
        insertSQL = """
            WITH ins AS (INSERT INTO \(target) (\(list)) SELECT \(list) FROM \(stage) \(claimed) \
            ON CONFLICT DO NOTHING RETURNING \(returning)) SELECT count(*)\(filter) FROM ins
            """
        moveSQL = """
            WITH moved AS (DELETE FROM \(stage) RETURNING \(list)), \
            ins AS (INSERT INTO \(target) (\(list)) SELECT \(list) FROM moved \(claimed) \
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

/// `event_ids`: one row per stored event, whatever table holds it (docs/producers.md, "Event
/// identity"). The fast path COPYs the batch's identities first (a stored id fails it with a
/// unique violation, and the batch goes the dedup way); the dedup path claims the identities it
/// can and writes rows only for those.
enum IdentitySQL {
    static let copy = "COPY event_ids (event_id, digest) FROM STDIN (FORMAT binary)"
    static let stage = "pg_temp.dk_stage_event_ids"
    /// The ids this transaction claimed (inserted into `event_ids`), for the row inserts' filter.
    static let claimed = "pg_temp.dk_claimed_event_ids"
    static let stageCopy = "COPY \(stage) (event_id, digest) FROM STDIN (FORMAT binary)"
    static let stageCreate = "DROP TABLE IF EXISTS \(stage); DROP TABLE IF EXISTS \(claimed); "
        + "CREATE TEMP TABLE dk_stage_event_ids (event_id uuid NOT NULL, digest bytea NOT NULL) ON COMMIT DELETE ROWS; "
        + "CREATE TEMP TABLE dk_claimed_event_ids (event_id uuid PRIMARY KEY) ON COMMIT DELETE ROWS"
    /// Claims the staged identities not taken yet; the others are duplicates or conflicts.
    static let claim = """
        DELETE FROM \(claimed); \
        WITH new AS (INSERT INTO event_ids (event_id, digest) SELECT event_id, digest FROM \(stage) \
        ON CONFLICT DO NOTHING RETURNING event_id) INSERT INTO \(claimed) SELECT event_id FROM new
        """
    /// Staged ids taken by an event of other content (digests differ; an empty digest, from
    /// before identities were recorded, matches anything).
    static let conflicts = """
        SELECT s.event_id::text FROM \(stage) s JOIN event_ids e USING (event_id) \
        WHERE e.digest <> s.digest AND e.digest <> '\\x'::bytea \
        AND NOT EXISTS (SELECT 1 FROM \(claimed) c WHERE c.event_id = s.event_id)
        """
    static let clearStage = "DELETE FROM \(stage)"
}
