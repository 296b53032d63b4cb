import Foundation
import KernelTestSupport
import Logging
import Testing
import KernelPostgres

@Suite("PGConnection (live Postgres)", .serialized)
struct PGConnectionTests {
    @Test("query with parameters; NULLs and unicode survive; no interpolation")
    func queryParams() throws {
        try TestDatabase.with { connection, _ in
            #expect(connection.isConnected)
            let hostile = "'); DROP TABLE x; --\u{1F600}\u{00E9}"
            let result = try connection.query("SELECT $1::text AS a, $2::text AS b, $3::int + 1 AS c", [hostile, nil, "41"])
            #expect(result.columns == ["a", "b", "c"])
            #expect(result[0, 0] == hostile)
            #expect(result[0, "b"] == nil)
            #expect(result[0, "c"] == "42")
            let inserted = try connection.query("SELECT generate_series(1, 3)")
            #expect(inserted.count == 3)
        }
    }

    @Test("a unique violation is a data error")
    func uniqueViolation() throws {
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE u (id int PRIMARY KEY); INSERT INTO u VALUES (1)")
            let error = #expect(throws: PGError.self, "expected a unique violation") {
                try connection.execute("INSERT INTO u VALUES (1)")
            }
            #expect(error?.kind == .data)
            #expect(error?.sqlState == "23505")
            #expect(error?.reasonCode == "pg_unique_violation")
            #expect(try connection.query("SELECT 1").scalar == "1")
        }
    }

    @Test("a bad value is a data error; a syntax error is other")
    func badValue() throws {
        try TestDatabase.with { connection, _ in
            let invalid = #expect(throws: PGError.self, "expected invalid input") {
                try connection.query("SELECT $1::int", ["abc"])
            }
            #expect(invalid?.kind == .data)
            #expect(invalid?.sqlState == "22P02")
            let syntax = #expect(throws: PGError.self, "expected a syntax error") { try connection.execute("SELEC 1") }
            #expect(syntax?.kind == .other)
            #expect(syntax?.sqlState == "42601")
        }
    }

    @Test("a terminated backend is a connectivity error")
    func terminatedBackend() throws {
        try TestDatabase.with { connection, dsn in
            let victim = try PGConnection(dsn: dsn)
            defer { victim.close() }
            let pid = victim.backendPID
            #expect(pid > 0)
            #expect(try connection.query("SELECT pg_terminate_backend($1::int)", [String(pid)]).scalar == "t")
            // Give the backend a moment to exit.
            Thread.sleep(forTimeInterval: 0.2)
            let error = #expect(throws: PGError.self, "expected the connection to be gone") { try victim.query("SELECT 1") }
            #expect(error?.kind == .connectivity)
            #expect(!victim.isConnected)
        }
    }

    @Test("an unreachable server is a connectivity error")
    func unreachable() {
        let error = #expect(throws: PGError.self, "expected a connection failure") {
            try PGConnection(dsn: "postgres://kernel@127.0.0.1:1/kernel?sslmode=disable&connect_timeout=2")
        }
        #expect(error?.kind == .connectivity)
    }

    @Test("a closed connection fails as connectivity and close is idempotent")
    func closed() throws {
        let connection = try PGConnection(dsn: TestDatabase.adminDSN)
        connection.close()
        connection.close()
        #expect(!connection.isConnected)
        #expect(throws: PGError.self) { try connection.execute("SELECT 1") }
    }

    @Test("transaction commits on success and rolls back on error")
    func transaction() throws {
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE t (id int PRIMARY KEY)")
            try connection.transaction { () throws(PGError) in try connection.execute("INSERT INTO t VALUES (1)") }
            #expect(throws: PGError.self) {
                try connection.transaction { () throws(PGError) in
                    try connection.execute("INSERT INTO t VALUES (2)")
                    try connection.execute("INSERT INTO t VALUES (1)")
                }
            }
            #expect(try connection.query("SELECT string_agg(id::text, ',' ORDER BY id) FROM t").scalar == "1")
        }
    }

    @Test("server notices go to the logger, not stderr")
    func notices() throws {
        let sink = CapturedLogs()
        let connection = try PGConnection(dsn: TestDatabase.adminDSN, logger: sink.logger(label: "notice-test", level: .debug))
        defer { connection.close() }
        try connection.execute("DO $$ BEGIN RAISE NOTICE 'hello notice'; RAISE WARNING 'careful'; END $$")
        let lines = sink.all
        #expect(lines.contains { $0.level == .debug && $0.message.contains("hello notice") })
        #expect(lines.contains { $0.level == .warning && $0.message.contains("careful") })
    }
}
