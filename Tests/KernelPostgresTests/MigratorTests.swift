import Foundation
import KernelTestSupport
import Logging
import Testing
import KernelPostgres

@Suite("Migrator (live Postgres)", .serialized)
struct MigratorTests {
    let logger = TestDatabase.logger

    @Test("applying twice: the second run is a no-op and the tables exist")
    func applyTwice() throws {
        try TestDatabase.with { connection, _ in
            let migrator = Migrator(directory: TestDatabase.migrationsDirectory, logger: logger)
            let first = try migrator.apply(on: connection)
            #expect(first.applied.count >= 3)
            #expect(first.applied == first.applied.sorted())
            #expect(first.skipped.isEmpty)
            let second = try migrator.apply(on: connection)
            #expect(second.applied.isEmpty)
            #expect(second.skipped == first.applied)

            for table in ["schemas", "producers", "subjects", "producer_subjects", "subject_schemas", "tags",
                          "producer_tokens", "revoked_tokens", "producer_keys", "producer_registrations",
                          "events", "event_tag_links", "family_tables", "stats_event_month", "stats_tag_month",
                          "schema_migrations", "producer_overview"] {
                let found = try connection.query("SELECT to_regclass($1) IS NOT NULL", [table]).scalar
                #expect(found == "t", "missing \(table)")
            }
            let sums = try connection.query("SELECT checksum FROM schema_migrations")
            #expect(sums.count == first.applied.count)
            for row in sums.rows {
                let sum = try #require(row[0])
                #expect(sum.utf8.count == 128 && sum.allSatisfy { $0.isHexDigit && !$0.isUppercase })
            }
            // Every migration is re-runnable as plain SQL too (docs/architecture.md, "Data model").
            for name in first.applied {
                let sql = try String(contentsOfFile: TestDatabase.migrationsDirectory + "/" + name, encoding: .utf8)
                try connection.transaction { () throws(PGError) in try connection.execute(sql) }
            }
        }
    }

    /// 0012 moves the tag links of `event_tags` onto the rows (`tag_ids`) and drops the table:
    /// links stored before it are kept, on both the generic and a typed table.
    @Test("0012 carries the event_tags links of stored events over to their rows")
    func tagLinksCarriedOver() throws {
        try TestDatabase.withTemporaryDirectory { dir in
            let all = try FileManager.default.contentsOfDirectory(atPath: TestDatabase.migrationsDirectory).filter { $0.hasSuffix(".sql") }.sorted()
            for name in all where name < "0012" {
                try FileManager.default.copyItem(atPath: TestDatabase.migrationsDirectory + "/" + name, toPath: dir + "/" + name)
            }
            try TestDatabase.with { connection, _ in
                let migrator = Migrator(directory: dir, logger: logger)
                _ = try migrator.apply(on: connection)
                // A typed table as a kernel before 0012 made it, and one event in each table with two tags.
                try connection.execute("""
                    CREATE TABLE md_lc (event_id uuid NOT NULL, row_no integer NOT NULL DEFAULT 0, ts timestamptz NOT NULL,
                        subject_id uuid NOT NULL, px numeric, PRIMARY KEY (event_id, row_no, ts)) PARTITION BY RANGE (ts);
                    SELECT ensure_month_partitions('md_lc'::regclass, '2026-11-01', 1);
                    INSERT INTO family_tables (family, table_name) VALUES ('lc', 'md_lc');
                    INSERT INTO tags (key, value) VALUES ('core.venue', 'XNAS'), ('core.symbol', 'AAPL');
                    INSERT INTO md_lc VALUES ('0190aaaa-0000-7000-8000-000000000001', 0, '2026-11-05T00:00:00Z', gen_random_uuid(), 1),
                                             ('0190aaaa-0000-7000-8000-000000000001', 1, '2026-11-05T00:00:00Z', gen_random_uuid(), 2);
                    SELECT ensure_month_partitions('events'::regclass, '2026-11-01', 1);
                    SELECT ensure_month_partitions('event_tags'::regclass, '2026-11-01', 1);
                    INSERT INTO events (event_id, ts, subject_id, producer_id, schema_id, payload)
                    VALUES ('0190aaaa-0000-7000-8000-000000000002', '2026-11-06T00:00:00Z', gen_random_uuid(), gen_random_uuid(),
                            gen_random_uuid(), '{}');
                    INSERT INTO event_tags SELECT '0190aaaa-0000-7000-8000-000000000001', '2026-11-05T00:00:00Z', tag_id FROM tags;
                    INSERT INTO event_tags SELECT '0190aaaa-0000-7000-8000-000000000002', '2026-11-06T00:00:00Z', tag_id FROM tags;
                    """)
                try FileManager.default.copyItem(atPath: TestDatabase.migrationsDirectory + "/0012_tag_ids.sql",
                                                 toPath: dir + "/0012_tag_ids.sql")
                #expect(try migrator.apply(on: connection).applied == ["0012_tag_ids.sql"])
                let ids = try connection.query("SELECT array_agg(tag_id ORDER BY tag_id)::text FROM tags").scalar
                #expect(try connection.query("SELECT tag_ids::text FROM events").scalar == ids)
                #expect(try connection.query("SELECT string_agg(tag_ids::text, ';' ORDER BY row_no) FROM md_lc").scalar
                        == "\(ids ?? "");\(ids ?? "")", "every row of the typed event")
                #expect(try connection.query("SELECT to_regclass('event_tags') IS NULL").scalar == "t", "the table is gone")
                #expect(try connection.query("SELECT count(*) FROM event_tag_links").scalar == "2", "the generic event's links, until the kernel rebuilds the view")
                #expect(try connection.query("SELECT to_regclass('md_lc_ts_brin') IS NOT NULL").scalar == "t")
            }
        }
    }

    @Test("a changed applied migration is refused, naming the file")
    func changedMigrationRefused() throws {
        try TestDatabase.withTemporaryDirectory { dir in
            try "CREATE TABLE IF NOT EXISTS a (id int);".write(toFile: dir + "/0001_a.sql", atomically: true, encoding: .utf8)
            try "CREATE TABLE IF NOT EXISTS b (id int);".write(toFile: dir + "/0002_b.sql", atomically: true, encoding: .utf8)
            try TestDatabase.with { connection, _ in
                let migrator = Migrator(directory: dir, logger: logger)
                #expect(try migrator.apply(on: connection).applied == ["0001_a.sql", "0002_b.sql"])
                try "CREATE TABLE IF NOT EXISTS b (id int, x text);".write(toFile: dir + "/0002_b.sql", atomically: true, encoding: .utf8)
                try "CREATE TABLE c (id int);".write(toFile: dir + "/0003_c.sql", atomically: true, encoding: .utf8)
                let error = #expect(throws: MigrationError.self, "a changed migration must be refused") {
                    try migrator.apply(on: connection)
                }
                #expect(error?.file == "0002_b.sql")
                #expect(error?.reasonCode == "migration_checksum_mismatch")
                #expect(error?.description.contains("0002_b.sql") == true)
                // Nothing after the changed file was applied.
                #expect(try connection.query("SELECT to_regclass('c') IS NULL").scalar == "t")
            }
        }
    }

    @Test("a broken migration rolls back and names the file")
    func brokenMigrationRollsBack() throws {
        try TestDatabase.withTemporaryDirectory { dir in
            try "CREATE TABLE ok_table (id int);".write(toFile: dir + "/0001_ok.sql", atomically: true, encoding: .utf8)
            try "CREATE TABLE half (id int);\nSELECT no_such_column FROM ok_table;"
                .write(toFile: dir + "/0002_broken.sql", atomically: true, encoding: .utf8)
            try "not sql".write(toFile: dir + "/README.md", atomically: true, encoding: .utf8)
            try TestDatabase.with { connection, _ in
                let migrator = Migrator(directory: dir, logger: logger)
                let error = #expect(throws: MigrationError.self, "a broken migration must fail") {
                    try migrator.apply(on: connection)
                }
                #expect(error?.file == "0002_broken.sql")
                #expect(error?.reasonCode == "migration_failed")
                #expect(error?.description.contains("0002_broken.sql") == true)
                if case .migrationFailed(_, let pgError)? = error { #expect(pgError.sqlState == "42703") }
                #expect(try connection.query("SELECT to_regclass('half') IS NULL").scalar == "t")
                #expect(try connection.query("SELECT to_regclass('ok_table') IS NOT NULL").scalar == "t")
                let recorded = try connection.query("SELECT filename FROM schema_migrations ORDER BY 1")
                #expect(recorded.rows == [["0001_ok.sql"]])
                // The failed file was not recorded, so a fixed version applies.
                try "CREATE TABLE half (id int);".write(toFile: dir + "/0002_broken.sql", atomically: true, encoding: .utf8)
                let report = try migrator.apply(on: connection)
                #expect(report.applied == ["0002_broken.sql"])
                #expect(report.skipped == ["0001_ok.sql"])
            }
        }
    }

    @Test("two kernels migrating at once do not race")
    func concurrentMigrators() throws {
        try TestDatabase.with { connection, dsn in
            let migrator = Migrator(directory: TestDatabase.migrationsDirectory, logger: logger)
            let results = Results()
            let group = DispatchGroup()
            for _ in 0..<2 {
                group.enter()
                Thread.detachNewThread {
                    defer { group.leave() }
                    do {
                        let other = try PGConnection(dsn: dsn)
                        defer { other.close() }
                        results.add(.success(try migrator.apply(on: other).applied.count))
                    } catch {
                        results.add(.failure(error))
                    }
                }
            }
            group.wait()
            let counts = try results.all.map { try $0.get() }
            #expect(counts.reduce(0, +) == (try migrator.apply(on: connection).skipped.count))
        }
    }

    @Test("a missing directory is an error")
    func missingDirectory() throws {
        try TestDatabase.with { connection, _ in
            let error = #expect(throws: MigrationError.self) {
                _ = try Migrator(directory: "/nonexistent/dk-migrations", logger: logger).apply(on: connection)
            }
            #expect(error?.reasonCode == "migrations_dir_unreadable")
        }
    }
}

/// Collects results from helper threads.
final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<Int, any Error>] = []
    func add(_ item: Result<Int, any Error>) { lock.withLock { items.append(item) } }
    var all: [Result<Int, any Error>] { lock.withLock { items } }
}
