import KernelPostgres

/// The monthly partitions of the storage tables (`events`, every `md_<family>`),
/// read from the Postgres catalog, and the one statement that removes one.
public enum PartitionCatalog {
    public struct Partition: Sendable, Equatable {
        /// The partitioned table.
        public var table: String
        public var schema: String
        public var name: String
        /// Nil for a partition not named `<table>_YYYY_MM`.
        public var month: PartitionMonth?
        /// Table, indexes and TOAST.
        public var bytes: Int64
    }

    /// Every partition, by table then name.
    public static func partitions(on connection: PGConnection) throws(PGError) -> [Partition] {
        let result = try connection.query("""
            SELECT t, n.nspname, c.relname, pg_total_relation_size(c.oid)::text
              FROM (SELECT 'events' AS t UNION ALL SELECT table_name FROM family_tables) AS tables
              JOIN pg_inherits i ON i.inhparent = to_regclass(quote_ident(t))
              JOIN pg_class c ON c.oid = i.inhrelid
              JOIN pg_namespace n ON n.oid = c.relnamespace
             ORDER BY 1, 3
            """)
        return result.rows.compactMap { row in
            guard row.count == 4, let table = row[0], let schema = row[1], let name = row[2] else { return nil }
            return Partition(table: table, schema: schema, name: name, month: PartitionMonth(partition: name, of: table),
                             bytes: Int64(row[3] ?? "0") ?? 0)
        }
    }

    /// Typed table → family, from `family_tables`.
    public static func tableFamilies(on connection: PGConnection) throws(PGError) -> [String: String] {
        var map: [String: String] = [:]
        for row in try connection.query("SELECT table_name, family FROM family_tables").rows {
            if let table = row[0], let family = row[1] { map[table] = family }
        }
        return map
    }

    /// The current month, by the database's clock in UTC (the one partitions are cut by).
    public static func currentMonth(on connection: PGConnection) throws(PGError) -> PartitionMonth {
        let row = try connection.query(
            "SELECT extract(year FROM now() AT TIME ZONE 'UTC')::int::text, extract(month FROM now() AT TIME ZONE 'UTC')::int::text"
        ).rows.first
        return PartitionMonth(year: Int(row?[0] ?? "") ?? 1970, month: Int(row?[1] ?? "") ?? 1)
    }

    /// Drops one partition with its rows and indexes. A partition of a table that holds events
    /// (`events` or a typed `md_<family>`: `holdsEvents`) takes its events' identities out of
    /// `event_ids` in the same transaction (docs/operations.md, "Retention"): identities live as
    /// long as their events, so `event_ids` does not grow without bound. An event id is stored in
    /// one table only (`event_ids` is its one row), so no event that stays loses its identity.
    /// The delete runs before the drop, so writers wait only for the drop's short lock.
    public static func drop(_ partition: Partition, holdsEvents: Bool, on connection: PGConnection) throws(PGError) {
        let name = "\(quoted(partition.schema)).\(quoted(partition.name))"
        try connection.transaction { () throws(PGError) in
            if holdsEvents {
                try connection.execute("DELETE FROM event_ids i USING \(name) p WHERE i.event_id = p.event_id")
            }
            try connection.execute("DROP TABLE IF EXISTS \(name)")
        }
    }

    static func quoted(_ identifier: String) -> String {
        "\"" + identifier.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "\"\"") + "\""
    }
}
