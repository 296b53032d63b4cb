import KernelPostgres

/// Makes sure the monthly partition exists for every (table, month) a batch writes to, calling
/// `ensure_month_partitions` only for pairs not ensured before on this writer.
///
/// Runs outside the batch transaction: a partition created for a batch that later fails is
/// harmless, and DDL inside the batch would hold a lock on the parent until COMMIT.
struct PartitionKeeper {
    struct Key: Hashable {
        var table: String
        var month: UTCMonth
    }

    private var ensured: Set<Key> = []

    /// Pairs not ensured yet (cheap: a set lookup per pair).
    func missing(_ keys: some Sequence<Key>) -> [Key] {
        var out: [Key] = []
        var seen: Set<Key> = []
        for key in keys where !ensured.contains(key) && seen.insert(key).inserted { out.append(key) }
        return out.sorted { ($0.table, $0.month) < ($1.table, $1.month) }
    }

    /// Creates the partition of `key` if missing. `table` is an unquoted name of ours.
    mutating func ensure(_ key: Key, on connection: PGConnection) throws(PGError) {
        _ = try connection.query(
            "SELECT ensure_month_partitions(to_regclass(quote_ident($1)), $2::date, 1)", [key.table, key.month.firstDay])
        ensured.insert(key)
    }

    /// Forgets what was ensured (after partitions were dropped by hand, for instance).
    mutating func reset() { ensured.removeAll() }
}
