/// Why applying migrations stopped. Every case that concerns one file names it.
public enum MigrationError: Error, Sendable, CustomStringConvertible {
    /// The migrations directory could not be listed.
    case directoryUnreadable(path: String, reason: String)
    /// A migration file could not be read or hashed.
    case fileUnreadable(file: String, reason: String)
    /// An applied migration's bytes changed; migrations are immutable once applied.
    case checksumMismatch(file: String, recorded: String, current: String)
    /// The file's SQL failed; its transaction was rolled back.
    case migrationFailed(file: String, error: PGError)
    /// Bookkeeping (lock, schema_migrations) failed.
    case database(PGError)

    /// A stable code for logs and metrics.
    public var reasonCode: String {
        switch self {
        case .directoryUnreadable: "migrations_dir_unreadable"
        case .fileUnreadable: "migration_unreadable"
        case .checksumMismatch: "migration_checksum_mismatch"
        case .migrationFailed: "migration_failed"
        case .database: "migration_db_error"
        }
    }

    /// The file concerned, when there is one.
    public var file: String? {
        switch self {
        case .fileUnreadable(let file, _), .checksumMismatch(let file, _, _), .migrationFailed(let file, _): file
        case .directoryUnreadable, .database: nil
        }
    }

    public var description: String {
        switch self {
        case .directoryUnreadable(let path, let reason):
            "cannot read migrations directory \(path): \(reason)"
        case .fileUnreadable(let file, let reason):
            "cannot read migration \(file): \(reason)"
        case .checksumMismatch(let file, _, _):
            "migration \(file) was changed after it was applied (checksum differs); migrations are immutable, put the fix in a new file"
        case .migrationFailed(let file, let error):
            "migration \(file) failed and was rolled back: \(error.message) (sqlstate \(error.sqlState ?? "-"))"
        case .database(let error):
            "migration bookkeeping failed: \(error)"
        }
    }
}
