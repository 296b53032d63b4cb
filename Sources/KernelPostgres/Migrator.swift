import Foundation
import Logging
import KernelCrypto

/// Applies the plain-SQL migrations of a directory, in filename order, once each.
///
/// Every `*.sql` file runs in its own transaction with a 30 s statement timeout and is recorded
/// in `schema_migrations` with the lowercase hex SHA3-512 of its bytes. A recorded file is skipped
/// when its checksum matches; a recorded file whose bytes changed stops the run with an error
/// naming it (migrations are immutable once applied: fixes go in a new file). All work happens
/// under a transaction-scoped advisory lock, so two kernels starting together do not race.
///
/// Files must not contain transaction control (BEGIN/COMMIT) or statements that cannot run in a
/// transaction block (CREATE INDEX CONCURRENTLY).
public struct Migrator: Sendable {
    /// The directory holding the `*.sql` files.
    public let directory: String
    private let logger: Logger

    /// Advisory lock key shared by every kernel migrating the same database ("DKMIGR" in ASCII).
    static let lockKey: Int64 = 0x44_4B_4D_49_47_52

    /// - Parameters:
    ///   - directory: path of the migrations folder.
    ///   - logger: receives one line per applied or skipped file.
    public init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// Applies every pending migration. Blocking; run it on the connection's thread.
    public func apply(on connection: PGConnection) throws(MigrationError) -> MigrationReport {
        let files = try migrationFiles()
        var report = MigrationReport()
        // Verify every applied file first, so a changed old file stops the run before any new
        // file is applied on top of it.
        let recorded = try withLock(connection) { () throws(MigrationError) -> [String: String] in
            try recordedChecksums(connection)
        }
        for file in files {
            if let old = recorded[file.name], old != file.checksum {
                throw .checksumMismatch(file: file.name, recorded: old, current: file.checksum)
            }
        }
        for file in files {
            let applied = try withLock(connection) { () throws(MigrationError) -> Bool in
                // Re-read under the lock: another kernel may have applied it meanwhile.
                let current = try recordedChecksum(connection, file: file.name)
                if let current {
                    guard current == file.checksum else {
                        throw .checksumMismatch(file: file.name, recorded: current, current: file.checksum)
                    }
                    return false
                }
                do throws(PGError) {
                    try connection.execute(file.sql)
                } catch {
                    throw .migrationFailed(file: file.name, error: error)
                }
                do throws(PGError) {
                    _ = try connection.query(
                        "INSERT INTO schema_migrations (filename, checksum) VALUES ($1, $2)",
                        [file.name, file.checksum])
                } catch {
                    throw .database(error)
                }
                return true
            }
            if applied {
                report.applied.append(file.name)
                logger.info("migration_applied", metadata: ["file": "\(file.name)"])
            } else {
                report.skipped.append(file.name)
                logger.debug("migration_skipped", metadata: ["file": "\(file.name)"])
            }
        }
        return report
    }

    // MARK: - internals

    struct MigrationFile {
        let name: String
        let sql: String
        let checksum: String
    }

    /// Lists and hashes the `*.sql` files, sorted by filename (byte order).
    func migrationFiles() throws(MigrationError) -> [MigrationFile] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw .directoryUnreadable(path: directory, reason: "\(error)")
        }
        let sqlNames = names.filter { $0.hasSuffix(".sql") }.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        var files: [MigrationFile] = []
        for name in sqlNames {
            let path = directory.hasSuffix("/") ? directory + name : directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .fileUnreadable(file: name, reason: "cannot read \(path)")
            }
            let bytes = [UInt8](data)
            guard let sql = String(validating: bytes, as: UTF8.self) else {
                throw .fileUnreadable(file: name, reason: "not valid UTF-8")
            }
            guard !sql.utf8.contains(0) else {
                throw .fileUnreadable(file: name, reason: "contains a NUL byte")
            }
            let checksum = Digest.sha3_512.hex(bytes)
            files.append(MigrationFile(name: name, sql: sql, checksum: checksum))
        }
        return files
    }

    /// Runs `body` in a transaction holding the migration lock, with schema_migrations present.
    private func withLock<T>(_ connection: PGConnection, _ body: () throws(MigrationError) -> T) throws(MigrationError) -> T {
        try connection.transaction(begin: """
                BEGIN;
                SET LOCAL statement_timeout = '30s';
                SELECT pg_advisory_xact_lock(\(Migrator.lockKey));
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    filename   text PRIMARY KEY,
                    checksum   text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                );
                """, mappingErrors: MigrationError.database, body)
    }

    private func recordedChecksums(_ connection: PGConnection) throws(MigrationError) -> [String: String] {
        do {
            let result = try connection.query("SELECT filename, checksum FROM schema_migrations")
            var map: [String: String] = [:]
            for row in result.rows {
                if let name = row[0], let sum = row[1] { map[name] = sum }
            }
            return map
        } catch {
            throw .database(error)
        }
    }

    private func recordedChecksum(_ connection: PGConnection, file: String) throws(MigrationError) -> String? {
        do {
            return try connection.query("SELECT checksum FROM schema_migrations WHERE filename = $1", [file]).scalar
        } catch {
            throw .database(error)
        }
    }
}
