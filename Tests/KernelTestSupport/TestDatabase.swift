import Foundation
import KernelPostgres
import Logging

/// A throwaway database per test: `dk_test_<random>`, created on the server from KERNEL_PG_DSN
/// and dropped (WITH FORCE) when the test ends, so tests never see each other's tables.
public enum TestDatabase {
    public static var adminDSN: String {
        ProcessInfo.processInfo.environment["KERNEL_PG_DSN"]
            ?? "postgres://kernel@127.0.0.1:15432/kernel?sslmode=disable"
    }

    /// The Redis the tests share (KERNEL_REDIS_ADDR); each test keeps to its own key prefix.
    public static var redisAddr: String { ProcessInfo.processInfo.environment["KERNEL_REDIS_ADDR"] ?? "127.0.0.1:16379" }

    public static var repoRoot: URL { Repository.root }

    /// A test harness's logger: silent unless DK_TEST_LOG=1, then lines from `level` up go to stderr.
    public static func harnessLogger(label: String, level: Logger.Level = .info) -> Logger {
        Logger(label: label) { label -> any LogHandler in
            guard ProcessInfo.processInfo.environment["DK_TEST_LOG"] == "1" else { return SwiftLogNoOpLogHandler() }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    public static var migrationsDirectory: String { repoRoot.appendingPathComponent("migrations").path }

    public static let logger = Logger(label: "kernel.tests")

    /// The admin DSN (or `server`, another server's superuser DSN) pointed at another database.
    public static func dsn(database: String, server: String = adminDSN) -> String {
        let base = server
        if base.hasPrefix("postgres://") || base.hasPrefix("postgresql://"),
           var components = URLComponents(string: base) {
            components.path = "/" + database
            if let url = components.string { return url }
        }
        return base + " dbname=" + database
    }

    /// Creates `database` (a copy of `template` when given) on `server`; returns its DSN.
    public static func create(_ database: String, template: String? = nil, server: String = adminDSN,
                              logger: Logger = TestDatabase.logger) throws -> String {
        let admin = try PGConnection(dsn: server, logger: logger)
        defer { admin.close() }
        try admin.execute("CREATE DATABASE \(database)" + (template.map { " TEMPLATE \($0)" } ?? ""))
        return dsn(database: database, server: server)
    }

    /// Drops `database` on `server`, WITH (FORCE): a test's connections may still be open. A
    /// failure is ignored (a test's tear-down drops what it can).
    public static func drop(_ database: String, server: String = adminDSN, logger: Logger = TestDatabase.logger) {
        guard let admin = try? PGConnection(dsn: server, logger: logger) else { return }
        defer { admin.close() }
        try? admin.execute("DROP DATABASE IF EXISTS \(database) WITH (FORCE)")
    }

    /// Runs `body` with a connection to a fresh, empty database.
    public static func with<T>(_ body: (_ connection: PGConnection, _ dsn: String) throws -> T) throws -> T {
        let name = "dk_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let dsn = try create(name)
        defer { drop(name) }
        let connection = try PGConnection(dsn: dsn, logger: logger)
        defer { connection.close() }
        return try body(connection, dsn)
    }

    /// Runs `body` with a fresh database that has every migration applied.
    public static func withMigrated<T>(_ body: (_ connection: PGConnection, _ dsn: String) throws -> T) throws -> T {
        try with { connection, dsn in
            _ = try Migrator(directory: migrationsDirectory, logger: logger).apply(on: connection)
            return try body(connection, dsn)
        }
    }
}
