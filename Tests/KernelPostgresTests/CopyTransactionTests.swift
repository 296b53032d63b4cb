import KernelPostgres
import KernelTestSupport
import Testing

/// `copyTransaction`: several COPYs and the COMMIT in one query string, against the real server.
@Suite("COPY transactions in one query string")
struct CopyTransactionTests {
    @Test("both COPYs commit together; an empty COPY and a trailing one are fine")
    func commitsAll() throws {
        try TestDatabase.with { connection, dsn in
            try connection.execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int, note text)")
            try connection.copyTransaction(["COPY a FROM STDIN", "COPY b FROM STDIN", "COPY a FROM STDIN"]) { i, writer in
                switch i {
                case 0: for n in 0..<1_000 { try writer.writeTextRow([String(n)]) }
                case 1: break   // no rows
                default: try writer.writeTextRow(["5000"])
                }
            }
            #expect(try connection.query("SELECT count(*) FROM a").scalar == "1001")
            #expect(try connection.query("SELECT count(*) FROM b").scalar == "0")
            // Committed, not left open: another session sees the rows.
            let other = try PGConnection(dsn: dsn, logger: TestDatabase.logger)
            defer { other.close() }
            #expect(try other.query("SELECT count(*) FROM a").scalar == "1001")
        }
    }

    @Test("an error in the second COPY rolls back the first; the connection stays usable and idle")
    func errorInSecond() throws {
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY)")
            let error = #expect(throws: PGError.self, "expected a unique violation") {
                try connection.copyTransaction(["COPY a FROM STDIN", "COPY b FROM STDIN"]) { i, writer in
                    if i == 0 { try writer.writeTextRow(["1"]) } else {
                        try writer.writeTextRow(["7"])
                        try writer.writeTextRow(["7"])
                    }
                }
            }
            #expect(error?.sqlState == "23505")
            #expect(error?.kind == .data)
            #expect(try connection.query("SELECT count(*) FROM a").scalar == "0")
            #expect(try connection.query("SELECT count(*) FROM b").scalar == "0")
            // A following transaction works: the failed one was rolled back, not left aborted.
            try connection.copyTransaction(["COPY a FROM STDIN"]) { _, writer in try writer.writeTextRow(["2"]) }
            #expect(try connection.query("SELECT id FROM a").scalar == "2")
        }
    }

    @Test("a bad value in the first COPY: the second is never asked for")
    func errorInFirst() throws {
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE a (id int); CREATE TABLE b (id int)")
            var asked: [Int] = []
            let error = #expect(throws: PGError.self, "expected a bad value") {
                try connection.copyTransaction(["COPY a FROM STDIN", "COPY b FROM STDIN"]) { i, writer in
                    asked.append(i)
                    try writer.writeTextRow([i == 0 ? "not-a-number" : "1"])
                }
            }
            #expect(error?.sqlState == "22P02")
            #expect(asked == [0])
            #expect(try connection.query("SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)").scalar == "0")
        }
    }

    @Test("an error thrown by the writer aborts everything")
    func writerAbort() throws {
        struct Boom: Error {}
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE a (id int); CREATE TABLE b (id int)")
            let error = #expect(throws: PGError.self, "expected an abort") {
                try connection.copyTransaction(["COPY a FROM STDIN", "COPY b FROM STDIN"]) { i, writer in
                    try writer.writeTextRow(["1"])
                    if i == 1 { throw Boom() }
                }
            }
            #expect(error?.reasonCode == "pg_copy_aborted")
            #expect(try connection.query("SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM b)").scalar == "0")
            #expect(connection.isConnected)
        }
    }

    @Test("a statement that is not COPY FROM STDIN is refused and rolled back")
    func notCopy() throws {
        try TestDatabase.with { connection, _ in
            try connection.execute("CREATE TABLE a (id int)")
            let error = #expect(throws: PGError.self) {
                try connection.copyTransaction(["COPY a FROM STDIN", "INSERT INTO a VALUES (9)"]) { _, writer in
                    try writer.writeTextRow(["1"])
                }
            }
            #expect(error?.reasonCode == "pg_not_copy_in")
            #expect(try connection.query("SELECT count(*) FROM a").scalar == "0")
        }
    }
}
